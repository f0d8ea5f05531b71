"""A local WMS 1.3.0 server over one georeferenced raster, for tests that need a real WMS
layer without a network: GetCapabilities names one layer, GetMap warps the raster onto the
asked box and size (EPSG:3857) as a PNG. It counts the requests of each kind, so a test can
see how often QGIS asks for the capabilities (each time a layer is opened)."""

from __future__ import annotations

import collections
import http.server
import threading
import uuid
from urllib.parse import parse_qs, urlparse

from osgeo import gdal
from web_tiles import HALF_WORLD

CAPABILITIES = """<?xml version="1.0" encoding="UTF-8"?>
<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms" xmlns:xlink="http://www.w3.org/1999/xlink">
<Service><Name>WMS</Name><Title>test</Title><OnlineResource xlink:href="{url}"/></Service>
<Capability>
<Request>
<GetCapabilities><Format>text/xml</Format><DCPType><HTTP><Get><OnlineResource xlink:href="{url}?"/></Get></HTTP></DCPType></GetCapabilities>
<GetMap><Format>image/png</Format><DCPType><HTTP><Get><OnlineResource xlink:href="{url}?"/></Get></HTTP></DCPType></GetMap>
</Request>
<Exception><Format>XML</Format></Exception>
<Layer><Title>root</Title><CRS>EPSG:3857</CRS>
<EX_GeographicBoundingBox><westBoundLongitude>{w}</westBoundLongitude><eastBoundLongitude>{e}</eastBoundLongitude><southBoundLatitude>{s}</southBoundLatitude><northBoundLatitude>{n}</northBoundLatitude></EX_GeographicBoundingBox>
<BoundingBox CRS="EPSG:3857" minx="{x0}" miny="{y0}" maxx="{x1}" maxy="{y1}"/>
<Layer queryable="0"><Name>{layer}</Name><Title>{layer}</Title><CRS>EPSG:3857</CRS>
<EX_GeographicBoundingBox><westBoundLongitude>{w}</westBoundLongitude><eastBoundLongitude>{e}</eastBoundLongitude><southBoundLatitude>{s}</southBoundLatitude><northBoundLatitude>{n}</northBoundLatitude></EX_GeographicBoundingBox>
<BoundingBox CRS="EPSG:3857" minx="{x0}" miny="{y0}" maxx="{x1}" maxy="{y1}"/>
</Layer></Layer></Capability></WMS_Capabilities>"""


class WmsServer:
    """`with WmsServer(raster_3857, "scene") as wms:` serves it at `wms.url`; `wms.requests`
    counts the requests by their REQUEST parameter."""

    def __init__(self, raster, layer: str):
        ds = gdal.Open(str(raster))
        g = ds.GetGeoTransform()
        self.raster, self.layer = str(raster), layer
        self.bounds = (g[0], g[3] + g[5] * ds.RasterYSize, g[0] + g[1] * ds.RasterXSize, g[3])
        self.requests = collections.Counter()
        self.maps: list[dict] = []  # the GetMap queries, in order
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/wms"

    def uri(self) -> str:
        """The layer's data source as QGIS's layer properties show it."""
        return f"crs=EPSG:3857&format=image/png&layers={self.layer}&styles=&url={self.url}"

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def capabilities(self) -> bytes:
        x0, y0, x1, y1 = self.bounds
        lon = [v / HALF_WORLD * 180 for v in (x0, x1)]
        return CAPABILITIES.format(
            url=self.url,
            layer=self.layer,
            x0=x0,
            y0=y0,
            x1=x1,
            y1=y1,
            w=lon[0] - 1e-3,
            e=lon[1] + 1e-3,
            s=-1e-3,
            n=1e-3 + y1 / 111000,
        ).encode()

    def get_map(self, query: dict) -> bytes:
        """The raster warped onto BBOX (minx,miny,maxx,maxy in EPSG:3857) at WIDTH x HEIGHT."""
        x0, y0, x1, y1 = (float(v) for v in query["BBOX"].split(","))
        image = gdal.Warp(
            "",
            self.raster,
            format="MEM",
            dstSRS="EPSG:3857",
            outputBounds=(x0, y0, x1, y1),
            width=int(query["WIDTH"]),
            height=int(query["HEIGHT"]),
            resampleAlg="near",
        )
        path = f"/vsimem/wms-{uuid.uuid4().hex}.png"
        gdal.GetDriverByName("PNG").CreateCopy(path, image)
        data = bytes(gdal.VSIGetMemFileBuffer_unsafe(path))  # copied before the buffer is freed
        gdal.Unlink(path)
        return data

    def _handler(self):
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                query = {k.upper(): v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                kind = query.get("REQUEST", "")
                server.requests[kind] += 1
                if kind == "GetCapabilities":
                    body, mime = server.capabilities(), "text/xml"
                elif kind == "GetMap":
                    server.maps.append(query)
                    body, mime = server.get_map(query), "image/png"
                else:
                    self.send_error(400)
                    return
                self.send_response(200)
                self.send_header("Content-Type", mime)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler
