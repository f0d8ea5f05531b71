<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr">
  <context>
    <name>MicroDetector</name>
    <message>
      <source>Install dependencies…</source>
      <translation>Installer les dépendances…</translation>
    </message>
    <message>
      <source>Micro Object Detection</source>
      <translation>Détection de micro-objets</translation>
    </message>
    <message>
      <source>needs ONNX Runtime (about 30 MB) to detect objects.</source>
      <translation>a besoin d'ONNX Runtime (environ 30 Mo) pour détecter des objets.</translation>
    </message>
    <message>
      <source>No model file given and no default model is bundled.</source>
      <translation>Aucun fichier de modèle indiqué et aucun modèle par défaut n'est fourni.</translation>
    </message>
    <message>
      <source>Choose a model file: no default model is bundled.</source>
      <translation>Choisissez un fichier de modèle : aucun modèle par défaut n'est fourni.</translation>
    </message>
    <message>
      <source>Model file not found: {}</source>
      <translation>Fichier de modèle introuvable : {}</translation>
    </message>
    <message>
      <source>The model must be a .pt model file or an exported .onnx file: {}</source>
      <translation>Le modèle doit être un fichier de modèle .pt ou un fichier .onnx exporté : {}</translation>
    </message>
    <message>
      <source>Raster file not found: {}</source>
      <translation>Fichier raster introuvable : {}</translation>
    </message>
    <message>
      <source>The raster {} cannot be used: it holds no raster bands</source>
      <translation>Le raster {} est inutilisable : il ne contient aucune bande raster</translation>
    </message>
    <message>
      <source>The raster {} cannot be used: GDAL cannot read it ({})</source>
      <translation>Le raster {} est inutilisable : GDAL ne peut pas le lire ({})</translation>
    </message>
    <message>
      <source>Invalid detection option: {}</source>
      <translation>Option de détection invalide : {}</translation>
    </message>
    <message>
      <source>The output folder {} is a file: choose a folder.</source>
      <translation>Le dossier de sortie {} est un fichier : choisissez un dossier.</translation>
    </message>
    <message>
      <source>Detect micro objects</source>
      <translation>Détecter des micro-objets</translation>
    </message>
    <message>
      <source>Detection</source>
      <translation>Détection</translation>
    </message>
    <message>
      <source>Finds small objects (boats, buildings, planes, vehicles) on any raster layer with a YOLOv12 model, tile by tile, merges duplicates across tile borders and writes one polygon per object in the layer's CRS, with its class, score and area, styled per class. Without a model file the bundled default model is used. Files are read with GDAL at the model's ground sample distance. Other layers (XYZ tiles, WMS/WMTS, WCS, virtual rasters) are read through QGIS at the processing resolution in cm per pixel, window by window; 0 takes the model's GSD, or for a model without one the layer's own pixels or the resolution the map shows. From qgis_process or processing.run, give a web layer as text: its data source as the layer's properties show it (type=xyz&amp;url=https://tile.example.org/{z}/{x}/{y}.png&amp;zmin=0&amp;zmax=19, or a WMS crs=...&amp;layers=...&amp;url=...), or in QGIS's form wms://&lt;data source&gt; (also wcs://, virtualraster://). Where to search: the entire layer, the part of the map visible in the canvas (add an XYZ basemap, zoom to the area, run), or inside the mask polygons; an extent narrows it further. Classes: tick the classes to keep (none ticked keeps all); for a model with other class names, type them in the advanced field 'Classes to keep, by name'. Boxes of one class are merged across tiles; the advanced class-agnostic merge also keeps one box where two classes claim the same object (e.g. a vehicle and a boat). The option 'one layer per class' adds a layer per class, each styled, to the GeoPackage beside the layer of all detections. Objects too small at the layer's resolution (boats or cars of a few pixels): the advanced 'Zoom pass' adds a second pass over the layer magnified, e.g. 2 times, merged with the first; it gives only objects up to 32 model pixels wide and costs about 1 + zoom x zoom the time.</source>
      <translation>Trouve de petits objets (bateaux, bâtiments, avions, véhicules) sur n'importe quelle couche raster avec un modèle YOLOv12, tuile par tuile, fusionne les doublons aux bords des tuiles et écrit un polygone par objet dans le SCR de la couche, avec sa classe, son score et sa surface, symbolisé par classe. Sans fichier de modèle, le modèle fourni par défaut est utilisé. Les fichiers sont lus avec GDAL à la résolution au sol du modèle. Les autres couches (tuiles XYZ, WMS/WMTS, WCS, rasters virtuels) sont lues par QGIS à la résolution de traitement en cm par pixel, fenêtre par fenêtre ; 0 prend la résolution au sol du modèle ou, pour un modèle qui n'en a pas, les pixels de la couche ou la résolution affichée par la carte. Depuis qgis_process ou processing.run, donnez une couche web sous forme de texte : sa source de données telle que les propriétés de la couche l'affichent (type=xyz&amp;url=https://tile.example.org/{z}/{x}/{y}.png&amp;zmin=0&amp;zmax=19, ou un WMS crs=...&amp;layers=...&amp;url=...), ou sous la forme de QGIS wms://&lt;source de données&gt; (aussi wcs://, virtualraster://). Où chercher : la couche entière, la partie de la carte visible dans le canevas (ajoutez un fond de carte XYZ, zoomez sur la zone, lancez) ou dans les polygones de masque ; une emprise restreint encore la recherche. Classes : cochez les classes à garder (aucune cochée les garde toutes) ; pour un modèle aux autres noms de classes, tapez-les dans le champ avancé « Classes à garder, par nom ». Les boîtes d'une même classe sont fusionnées d'une tuile à l'autre ; la fusion avancée sans distinction de classe ne garde aussi qu'une boîte quand deux classes revendiquent le même objet (par exemple un véhicule et un bateau). L'option « une couche par classe » ajoute au GeoPackage une couche par classe, chacune symbolisée, à côté de la couche de toutes les détections. Objets trop petits à la résolution de la couche (bateaux ou voitures de quelques pixels) : la « Passe agrandie » avancée ajoute une seconde passe sur la couche agrandie, p. ex. 2 fois, fusionnée avec la première ; elle ne donne que les objets jusqu'à 32 pixels du modèle de large et coûte environ 1 + zoom x zoom fois le temps.</translation>
    </message>
    <message>
      <source>Detect micro objects in a folder of rasters</source>
      <translation>Détecter des micro-objets dans un dossier de rasters</translation>
    </message>
    <message>
      <source>Runs the detection on every raster of a folder that matches the pattern and writes one vector file per raster into the output folder. Resumable: rasters whose output exists are skipped, so a stopped run goes on where it stopped. A raster that fails is reported and the others still run. The summary table gives per raster the status, objects per class and seconds; it is also kept as summary.csv in the output folder.</source>
      <translation>Lance la détection sur chaque raster d'un dossier dont le nom correspond au motif et écrit un fichier vecteur par raster dans le dossier de sortie. Reprise possible : les rasters dont la sortie existe sont sautés, ainsi un traitement arrêté reprend là où il s'était arrêté. Un raster en échec est signalé et les autres sont quand même traités. Le tableau de synthèse donne pour chaque raster l'état, les objets par classe et les secondes ; il est aussi conservé sous summary.csv dans le dossier de sortie.</translation>
    </message>
    <message>
      <source>Raster layer (a file, or XYZ, WMS/WMTS, WCS, virtual)</source>
      <translation>Couche raster (un fichier, ou XYZ, WMS/WMTS, WCS, virtuelle)</translation>
    </message>
    <message>
      <source>Where to search</source>
      <translation>Où chercher</translation>
    </message>
    <message>
      <source>Processing resolution in cm/px (0 = the model's ground sample distance)</source>
      <translation>Résolution de traitement en cm/px (0 = la résolution au sol du modèle)</translation>
    </message>
    <message>
      <source>Search only in this extent</source>
      <translation>Chercher seulement dans cette emprise</translation>
    </message>
    <message>
      <source>Search only inside these polygons</source>
      <translation>Chercher seulement à l'intérieur de ces polygones</translation>
    </message>
    <message>
      <source>Also write one layer per class (GeoPackage)</source>
      <translation>Écrire aussi une couche par classe (GeoPackage)</translation>
    </message>
    <message>
      <source>Detections</source>
      <translation>Détections</translation>
    </message>
    <message>
      <source>Layers per class</source>
      <translation>Couches par classe</translation>
    </message>
    <message>
      <source>The visible part of the map needs the QGIS desktop: choose the entire layer with an extent instead.</source>
      <translation>La partie visible de la carte n'existe que dans QGIS Desktop : choisissez plutôt la couche entière avec une emprise.</translation>
    </message>
    <message>
      <source>Choose the mask polygons to search inside.</source>
      <translation>Choisissez les polygones de masque dans lesquels chercher.</translation>
    </message>
    <message>
      <source>One layer per class needs a GeoPackage output (.gpkg).</source>
      <translation>Une couche par classe demande une sortie GeoPackage (.gpkg).</translation>
    </message>
    <message>
      <source>Detections {}</source>
      <translation>Détections {}</translation>
    </message>
    <message>
      <source>Folder of rasters</source>
      <translation>Dossier de rasters</translation>
    </message>
    <message>
      <source>File name pattern</source>
      <translation>Motif des noms de fichiers</translation>
    </message>
    <message>
      <source>Output format</source>
      <translation>Format de sortie</translation>
    </message>
    <message>
      <source>Redo rasters already done</source>
      <translation>Refaire les rasters déjà traités</translation>
    </message>
    <message>
      <source>Workers (Dask processes on this machine; 0: in QGIS)</source>
      <translation>Travailleurs (processus Dask sur cette machine ; 0 : dans QGIS)</translation>
    </message>
    <message>
      <source>Dask scheduler address (tcp://host:8786)</source>
      <translation>Adresse de l'ordonnanceur Dask (tcp://hôte:8786)</translation>
    </message>
    <message>
      <source>Output folder</source>
      <translation>Dossier de sortie</translation>
    </message>
    <message>
      <source>Summary</source>
      <translation>Résumé</translation>
    </message>
    <message>
      <source>Summary (CSV in the output folder)</source>
      <translation>Résumé (CSV dans le dossier de sortie)</translation>
    </message>
    <message>
      <source>Entire layer</source>
      <translation>Couche entière</translation>
    </message>
    <message>
      <source>Visible part of the map</source>
      <translation>Partie visible de la carte</translation>
    </message>
    <message>
      <source>Inside the mask polygons</source>
      <translation>Dans les polygones de masque</translation>
    </message>
    <message>
      <source>The visible part of the map is unknown outside the QGIS desktop.</source>
      <translation>La partie visible de la carte est inconnue hors de QGIS Desktop.</translation>
    </message>
    <message>
      <source>Model: {} ({})</source>
      <translation>Modèle : {} ({})</translation>
    </message>
    <message>
      <source>Backend: {} ({})</source>
      <translation>Moteur : {} ({})</translation>
    </message>
    <message>
      <source>{} objects found: {}</source>
      <translation>{} objets trouvés : {}</translation>
    </message>
    <message>
      <source>Cancelled: nothing was written.</source>
      <translation>Annulé : rien n'a été écrit.</translation>
    </message>
    <message>
      <source>Cancelled: the rasters finished so far are kept; run again to go on.</source>
      <translation>Annulé : les rasters déjà terminés sont gardés ; relancez pour continuer.</translation>
    </message>
    <message>
      <source>The raster {} is not georeferenced (no CRS): georeference it first.</source>
      <translation>Le raster {} n'est pas géoréférencé (pas de SCR) : géoréférencez-le d'abord.</translation>
    </message>
    <message>
      <source>The area to search does not overlap the layer {}.</source>
      <translation>La zone de recherche ne recouvre pas la couche {}.</translation>
    </message>
    <message>
      <source>The style could not be stored with {}</source>
      <translation>Le style n'a pas pu être enregistré avec {}</translation>
    </message>
    <message>
      <source>Folder not found: {}</source>
      <translation>Dossier introuvable : {}</translation>
    </message>
    <message>
      <source>No file in {} matches {}</source>
      <translation>Aucun fichier de {} ne correspond à {}</translation>
    </message>
    <message>
      <source>Raster {} of {}: {}</source>
      <translation>Raster {} sur {} : {}</translation>
    </message>
    <message>
      <source>{} raster(s) failed: {}</source>
      <translation>{} raster(s) en échec : {}</translation>
    </message>
    <message>
      <source>Model file (.pt or .onnx; empty = the bundled default model)</source>
      <translation>Fichier de modèle (.pt ou .onnx ; vide = le modèle par défaut fourni)</translation>
    </message>
    <message>
      <source>Minimum confidence</source>
      <translation>Confiance minimale</translation>
    </message>
    <message>
      <source>Cross-tile merge threshold (IoU or IoS)</source>
      <translation>Seuil de fusion entre tuiles (IoU ou IoS)</translation>
    </message>
    <message>
      <source>Merge method</source>
      <translation>Méthode de fusion</translation>
    </message>
    <message>
      <source>Tile size in model pixels (0 = the model's)</source>
      <translation>Taille des tuiles en pixels du modèle (0 = celle du modèle)</translation>
    </message>
    <message>
      <source>Tile overlap (fraction of the tile)</source>
      <translation>Recouvrement des tuiles (fraction de la tuile)</translation>
    </message>
    <message>
      <source>Batch size (tiles per forward pass)</source>
      <translation>Taille de lot (tuiles par passe)</translation>
    </message>
    <message>
      <source>Device</source>
      <translation>Processeur de calcul</translation>
    </message>
    <message>
      <source>Classes to keep (none = all)</source>
      <translation>Classes à garder (aucune = toutes)</translation>
    </message>
    <message>
      <source>Classes to keep, by name, for models with other classes (comma-separated)</source>
      <translation>Classes à garder, par nom, pour les modèles ayant d'autres classes (séparées par des virgules)</translation>
    </message>
    <message>
      <source>Merge overlap measure</source>
      <translation>Mesure de recouvrement pour la fusion</translation>
    </message>
    <message>
      <source>Class-agnostic merge: one box per object even when two classes overlap</source>
      <translation>Fusion sans distinction de classe : une seule boîte par objet même si deux classes se chevauchent</translation>
    </message>
    <message>
      <source>Resample to the model's ground sample distance</source>
      <translation>Rééchantillonner à la résolution au sol du modèle</translation>
    </message>
    <message>
      <source>Source pixels per model pixel (0 = from the GSD)</source>
      <translation>Pixels source par pixel du modèle (0 = selon la résolution)</translation>
    </message>
    <message>
      <source>Bands to use, 1-based, comma-separated (empty = red, green, blue)</source>
      <translation>Bandes à utiliser, numérotées à partir de 1, séparées par des virgules (vide = rouge, vert, bleu)</translation>
    </message>
    <message>
      <source>Zoom pass for small objects: magnification (0 = off; e.g. 2)</source>
      <translation>Passe agrandie pour les petits objets : agrandissement (0 = désactivé ; p. ex. 2)</translation>
    </message>
    <message>
      <source>The zoom is a magnification above 1 (e.g. 2), or 0 for no zoom pass.</source>
      <translation>Le zoom est un agrandissement supérieur à 1 (p. ex. 2), ou 0 pour aucune passe agrandie.</translation>
    </message>
    <message>
      <source>Band numbers start at 1</source>
      <translation>Les numéros de bande commencent à 1</translation>
    </message>
    <message>
      <source>Bands must be whole numbers separated by commas, e.g. 3,2,1</source>
      <translation>Les bandes doivent être des nombres entiers séparés par des virgules, par exemple 3,2,1</translation>
    </message>
    <message>
      <source>The model has no class {}; it knows {}</source>
      <translation>Le modèle n'a pas de classe {} ; il connaît {}</translation>
    </message>
    <message>
      <source>Evaluate a detection model</source>
      <translation>Évaluer un modèle de détection</translation>
    </message>
    <message>
      <source>Training</source>
      <translation>Entraînement</translation>
    </message>
    <message>
      <source>Runs a model over labelled rasters with the same tiled detection as the Detect algorithm and gives per class and overall: images, instances, precision, recall, mAP at IoU 0.5 and mAP at IoU 0.5:0.95 (COCO 101-point interpolation). A class is scored only on images that annotate it. Besides the table, everything goes into the evaluation folder, and each file is also an output of the algorithm: report.html (opens in the results viewer), metrics.csv and metrics.json (the table), metrics_sizes.csv (AP by object size), metrics_confusion.csv (which class is taken for which), PR_curve.png (precision-recall curves) and val_images.png (sample images with true boxes in green and detections in red).</source>
      <translation>Applique un modèle à des rasters annotés avec la même détection par tuiles que l'algorithme Détecter et donne par classe et au total : images, instances, précision, rappel, mAP à IoU 0,5 et mAP à IoU 0,5:0,95 (interpolation COCO sur 101 points). Une classe n'est évaluée que sur les images qui l'annotent. Outre le tableau, tout va dans le dossier d'évaluation, et chaque fichier est aussi une sortie de l'algorithme : report.html (s'ouvre dans la visionneuse de résultats), metrics.csv et metrics.json (le tableau), metrics_sizes.csv (AP par taille d'objet), metrics_confusion.csv (quelle classe est prise pour quelle autre), PR_curve.png (courbes précision-rappel) et val_images.png (exemples d'images avec les vraies boîtes en vert et les détections en rouge).</translation>
    </message>
    <message>
      <source>Export a model to ONNX</source>
      <translation>Exporter un modèle en ONNX</translation>
    </message>
    <message>
      <source>Models</source>
      <translation>Modèles</translation>
    </message>
    <message>
      <source>Exports a model file to ONNX with the box decoding inside the graph and the model description (classes, bands, input size, GSD) in its metadata. The ONNX file runs with ONNX Runtime alone, without PyTorch, in Detect and elsewhere. Batch, height and width stay dynamic unless a fixed size is asked for.</source>
      <translation>Exporte un fichier de modèle en ONNX avec le décodage des boîtes dans le graphe et la description du modèle (classes, bandes, taille d'entrée, résolution au sol) dans ses métadonnées. Le fichier ONNX s'exécute avec ONNX Runtime seul, sans PyTorch, dans Détecter et ailleurs. Le lot, la hauteur et la largeur restent dynamiques sauf si une taille fixe est demandée.</translation>
    </message>
    <message>
      <source>Lowest confidence considered</source>
      <translation>Plus faible confiance prise en compte</translation>
    </message>
    <message>
      <source>Only the validation images of the split</source>
      <translation>Seulement les images de validation du partage</translation>
    </message>
    <message>
      <source>Metrics per class</source>
      <translation>Métriques par classe</translation>
    </message>
    <message>
      <source>Evaluation folder (report, metrics, curves, sample images)</source>
      <translation>Dossier d'évaluation (rapport, métriques, courbes, exemples d'images)</translation>
    </message>
    <message>
      <source>Evaluation report</source>
      <translation>Rapport d'évaluation</translation>
    </message>
    <message>
      <source>Metrics table (CSV)</source>
      <translation>Tableau des métriques (CSV)</translation>
    </message>
    <message>
      <source>Metrics table (JSON)</source>
      <translation>Tableau des métriques (JSON)</translation>
    </message>
    <message>
      <source>AP by object size (CSV)</source>
      <translation>AP par taille d'objet (CSV)</translation>
    </message>
    <message>
      <source>Class confusions (CSV)</source>
      <translation>Confusions entre classes (CSV)</translation>
    </message>
    <message>
      <source>Precision-recall curves (PNG)</source>
      <translation>Courbes précision-rappel (PNG)</translation>
    </message>
    <message>
      <source>Sample images with boxes (PNG)</source>
      <translation>Exemples d'images avec leurs boîtes (PNG)</translation>
    </message>
    <message>
      <source>No image to evaluate on.</source>
      <translation>Aucune image sur laquelle évaluer.</translation>
    </message>
    <message>
      <source>Model file (.pt; empty = the bundled default model)</source>
      <translation>Fichier de modèle (.pt ; vide = le modèle par défaut fourni)</translation>
    </message>
    <message>
      <source>Fixed height and width</source>
      <translation>Hauteur et largeur fixes</translation>
    </message>
    <message>
      <source>ONNX file</source>
      <translation>Fichier ONNX</translation>
    </message>
    <message>
      <source>This model is already an ONNX file.</source>
      <translation>Ce modèle est déjà un fichier ONNX.</translation>
    </message>
    <message>
      <source>Cancelled.</source>
      <translation>Annulé.</translation>
    </message>
    <message>
      <source>Train a detection model</source>
      <translation>Entraîner un modèle de détection</translation>
    </message>
    <message>
      <source>Trains a YOLOv12 detector on labelled rasters: xView GeoJSON labels with their images, or any polygon/point layer with a class field over one or more rasters (what you digitised). Rasters are cut into chips (cached), augmented (mosaic, rotations, flips, scale, colour), split into training and validation by image, and trained with the YOLO loss; the best model by validation mAP50-95 is written. By default the model and the run folder go into micro_detector/models and micro_detector/runs in your QGIS profile folder, where they stay after QGIS closes. The run folder receives the per-epoch metrics (results.csv, results.png), the final per-class table (metrics.csv), precision-recall curves, sample images and a resumable checkpoint. Start from: the bundled model (fine-tuning) learns from a few images; random weights need much more data (at least 20 images and 500 labelled objects), else the mAP stays near 0. Automatic picks the bundled model below that size. On a CPU, keep the scale small (n) and the epochs few; a GPU is much faster. Advanced: the repeat threshold shows chips of rare classes more often (with 0.3, chips of a class found in 1% of the chips 5.5 times per epoch); a range of ground sample distances shows each chip at a random GSD in it, and the model then serves rasters in that range at their own pixels (others are resampled to it); object sizes also zoom chips so that their objects appear at sizes drawn in that range, whatever the source's GSD (half the zooms each when both are set).</source>
      <translation>Entraîne un détecteur YOLOv12 sur des rasters annotés : des étiquettes xView en GeoJSON avec leurs images, ou n'importe quelle couche de polygones ou de points avec un champ de classe sur un ou plusieurs rasters (ce que vous avez numérisé). Les rasters sont découpés en vignettes (mises en cache), augmentées (mosaïque, rotations, symétries, échelle, couleur), réparties entre entraînement et validation par image, et entraînées avec la perte YOLO ; le meilleur modèle selon la mAP50-95 de validation est écrit. Par défaut, le modèle et le dossier d'entraînement vont dans micro_detector/models et micro_detector/runs du dossier de votre profil QGIS, où ils restent après la fermeture de QGIS. Le dossier d'entraînement reçoit les métriques par époque (results.csv, results.png), le tableau final par classe (metrics.csv), les courbes précision-rappel, des exemples d'images et un point de reprise. Partir de : le modèle fourni (affinage) apprend à partir de quelques images ; des poids aléatoires demandent bien plus de données (au moins 20 images et 500 objets annotés), sinon la mAP reste proche de 0. Automatique choisit le modèle fourni en dessous de cette taille. Sur un CPU, gardez une petite échelle (n) et peu d'époques ; un GPU est bien plus rapide. Avancé : le seuil de répétition montre plus souvent les imagettes des classes rares (avec 0,3, 5,5 fois par époque celles d'une classe présente dans 1 % des imagettes) ; une plage de résolutions au sol montre chaque imagette à une résolution tirée dans la plage, et le modèle sert ensuite les rasters de cette plage à leurs propres pixels (les autres y sont rééchantillonnés) ; les tailles d'objets agrandissent ou réduisent aussi les imagettes pour que leurs objets apparaissent à des tailles tirées dans cette plage, quelle que soit la résolution de la source (la moitié des zooms chacune quand les deux sont données).</translation>
    </message>
    <message>
      <source>xView labels (GeoJSON with bounds_imcoords, type_id, image_id)</source>
      <translation>Étiquettes xView (GeoJSON avec bounds_imcoords, type_id, image_id)</translation>
    </message>
    <message>
      <source>Folder of the xView images</source>
      <translation>Dossier des images xView</translation>
    </message>
    <message>
      <source>Class mapping (classes.json; empty = the one beside the labels)</source>
      <translation>Correspondance des classes (classes.json ; vide = celle à côté des étiquettes)</translation>
    </message>
    <message>
      <source>Or: label layer (polygons or points)</source>
      <translation>Ou : couche d'étiquettes (polygones ou points)</translation>
    </message>
    <message>
      <source>Class field of the label layer</source>
      <translation>Champ de classe de la couche d'étiquettes</translation>
    </message>
    <message>
      <source>Rasters under the label layer</source>
      <translation>Rasters sous la couche d'étiquettes</translation>
    </message>
    <message>
      <source>Validation fraction (by image, per source)</source>
      <translation>Part de validation (par image, par source)</translation>
    </message>
    <message>
      <source>Give either xView labels with their image folder, or a label layer with its class field and rasters.</source>
      <translation>Indiquez soit des étiquettes xView avec leur dossier d'images, soit une couche d'étiquettes avec son champ de classe et ses rasters.</translation>
    </message>
    <message>
      <source>Model scale</source>
      <translation>Taille du modèle</translation>
    </message>
    <message>
      <source>Epochs</source>
      <translation>Époques</translation>
    </message>
    <message>
      <source>Image (chip) size, multiple of 32</source>
      <translation>Taille d'image (vignette), multiple de 32</translation>
    </message>
    <message>
      <source>Batch size</source>
      <translation>Taille de lot</translation>
    </message>
    <message>
      <source>Start from</source>
      <translation>Partir de</translation>
    </message>
    <message>
      <source>Train at this ground sample distance in m/px (0 = native pixels)</source>
      <translation>Entraîner à cette résolution au sol en m/px (0 = pixels natifs)</translation>
    </message>
    <message>
      <source>Balance rare classes: repeat threshold (0 = off; e.g. 0.3)</source>
      <translation>Équilibrer les classes rares : seuil de répétition (0 = désactivé ; p. ex. 0,3)</translation>
    </message>
    <message>
      <source>Range of ground sample distances to train over, m/px (empty = off)</source>
      <translation>Plage de résolutions au sol d'entraînement, m/px (vide = désactivé)</translation>
    </message>
    <message>
      <source>Object sizes to also train at, pixels (empty = off; e.g. 8 to 64)</source>
      <translation>Tailles d'objets où entraîner aussi, en pixels (vide = désactivé ; p. ex. 8 à 64)</translation>
    </message>
    <message>
      <source>Start from this model file (instead of the choice above)</source>
      <translation>Partir de ce fichier de modèle (au lieu du choix ci-dessus)</translation>
    </message>
    <message>
      <source>Resume from this checkpoint (last_checkpoint.pt)</source>
      <translation>Reprendre depuis ce point de contrôle (last_checkpoint.pt)</translation>
    </message>
    <message>
      <source>Trained model</source>
      <translation>Modèle entraîné</translation>
    </message>
    <message>
      <source>Run folder (plots, metrics, checkpoint)</source>
      <translation>Dossier de l'entraînement (graphiques, métriques, point de contrôle)</translation>
    </message>
    <message>
      <source>Validation mAP50</source>
      <translation>mAP50 de validation</translation>
    </message>
    <message>
      <source>Validation mAP50-95</source>
      <translation>mAP50-95 de validation</translation>
    </message>
    <message>
      <source>The image size must be a multiple of 32.</source>
      <translation>La taille d'image doit être un multiple de 32.</translation>
    </message>
    <message>
      <source>GSD range</source>
      <translation>Plage de résolutions au sol</translation>
    </message>
    <message>
      <source>Object sizes</source>
      <translation>Tailles des objets</translation>
    </message>
    <message>
      <source>Give either one training GSD or a GSD range, not both.</source>
      <translation>Donnez soit une résolution au sol d'entraînement, soit une plage, pas les deux.</translation>
    </message>
    <message>
      <source>No bundled model to start from: choose a model file or random weights.</source>
      <translation>Aucun modèle fourni dont partir : choisissez un fichier de modèle ou des poids aléatoires.</translation>
    </message>
    <message>
      <source>xView labels need the folder of their images.</source>
      <translation>Les étiquettes xView ont besoin du dossier de leurs images.</translation>
    </message>
    <message>
      <source>Choose the class field of the label layer.</source>
      <translation>Choisissez le champ de classe de la couche d'étiquettes.</translation>
    </message>
    <message>
      <source>Choose the rasters the labels lie on.</source>
      <translation>Choisissez les rasters sur lesquels se trouvent les étiquettes.</translation>
    </message>
    <message>
      <source>Automatic: the bundled model for small data, else random weights</source>
      <translation>Automatique : le modèle fourni pour peu de données, sinon des poids aléatoires</translation>
    </message>
    <message>
      <source>The bundled model (fine-tuning)</source>
      <translation>Le modèle fourni (affinage)</translation>
    </message>
    <message>
      <source>Random weights (from scratch)</source>
      <translation>Des poids aléatoires (entraînement de zéro)</translation>
    </message>
    <message>
      <source>{} training and {} validation images; classes {}</source>
      <translation>{} images d'entraînement et {} de validation ; classes {}</translation>
    </message>
    <message>
      <source>Cancelled: no model was written; the run folder keeps the last checkpoint to resume from.</source>
      <translation>Annulé : aucun modèle n'a été écrit ; le dossier de l'entraînement garde le dernier point de contrôle pour reprendre.</translation>
    </message>
    <message>
      <source>No bundled model to start from: choose a model file.</source>
      <translation>Aucun modèle fourni dont partir : choisissez un fichier de modèle.</translation>
    </message>
    <message>
      <source>Checkpoint not found: {}</source>
      <translation>Point de contrôle introuvable : {}</translation>
    </message>
    <message>
      <source>Starting from the bundled model (fine-tuning): {}</source>
      <translation>Départ du modèle fourni (affinage) : {}</translation>
    </message>
    <message>
      <source>Labels not found: {}</source>
      <translation>Étiquettes introuvables : {}</translation>
    </message>
    <message>
      <source>No class mapping: choose one (looked for {}).</source>
      <translation>Pas de correspondance des classes : choisissez-en une (cherchée : {}).</translation>
    </message>
    <message>
      <source>{}: give a minimum and a maximum with 0 &lt; minimum &lt;= maximum.</source>
      <translation>{} : donnez un minimum et un maximum avec 0 &lt; minimum &lt;= maximum.</translation>
    </message>
    <message>
      <source>The bundled model is scale {}: training at scale {}, not {}.</source>
      <translation>Le modèle fourni est d'échelle {} : entraînement à l'échelle {}, et non {}.</translation>
    </message>
    <message>
      <source>Only {} images and {} labelled objects: too few to train from random weights (at least {} images and {} objects); the mAP will likely stay near 0. Start from the bundled model instead.</source>
      <translation>Seulement {} images et {} objets annotés : trop peu pour entraîner à partir de poids aléatoires (au moins {} images et {} objets) ; la mAP restera sans doute proche de 0. Partez plutôt du modèle fourni.</translation>
    </message>
    <message>
      <source>no reason given</source>
      <translation>aucune raison donnée</translation>
    </message>
    <message>
      <source>The {} layer {} cannot be opened: {}</source>
      <translation>La couche {} {} ne peut pas être ouverte : {}</translation>
    </message>
    <message>
      <source>The XYZ layer has no url=: give the tile URL template, e.g. {}</source>
      <translation>La couche XYZ n'a pas de url= : donnez le modèle d'URL des tuiles, par exemple {}</translation>
    </message>
    <message>
      <source>The XYZ tile URL {} has no {{z}}, {{x}} and {{y}} placeholders, e.g. {}</source>
      <translation>L'URL de tuiles XYZ {} n'a pas les repères {{z}}, {{x}} et {{y}}, par exemple {}</translation>
    </message>
    <message>
      <source>XYZ tile folder not found: {}</source>
      <translation>Dossier de tuiles XYZ introuvable : {}</translation>
    </message>
    <message>
      <source>The XYZ tile URL {} must start with http://, https:// or file://</source>
      <translation>L'URL de tuiles XYZ {} doit commencer par http://, https:// ou file://</translation>
    </message>
    <message>
      <source>{} tile request(s) failed, e.g. {}: {}</source>
      <translation>{} requête(s) de tuiles en échec, par exemple {} : {}</translation>
    </message>
  </context>
</TS>
