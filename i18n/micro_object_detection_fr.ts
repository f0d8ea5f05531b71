<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr">
  <context>
    <name>MicroDetector</name>
    <message>
      <source>&amp;Micro Object Detection</source>
      <translation>&amp;Détection de micro-objets</translation>
    </message>
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
      <source>Finds small objects (vehicles, boats, planes, buildings) on a raster layer and adds a layer with one polygon per object: its class, score and area, styled per class.&lt;br&gt;&lt;br&gt;&lt;b&gt;The settings that matter&lt;/b&gt;&lt;br&gt;&lt;b&gt;Raster layer&lt;/b&gt;: an image file, or a web layer (XYZ tiles, WMS/WMTS, WCS).&lt;br&gt;&lt;b&gt;Where to search&lt;/b&gt;: the entire layer, the part of the map you see (zoom to the area, run), or inside mask polygons.&lt;br&gt;&lt;b&gt;Resolution in cm/px&lt;/b&gt;: the one scale setting. 0 (auto) reads the layer at the model's ground sample distance, which suits most images; give e.g. 15 to read a web layer at 15 cm per pixel.&lt;br&gt;&lt;b&gt;Minimum confidence&lt;/b&gt;: lower it to find more objects, raise it for fewer false alarms.&lt;br&gt;&lt;b&gt;Classes to keep&lt;/b&gt;: none ticked keeps all.&lt;br&gt;Empty model file: the bundled model is used.&lt;br&gt;&lt;br&gt;&lt;b&gt;Advanced&lt;/b&gt;&lt;br&gt;Scale, which wins: 'Source pixels per model pixel' when not 0; else the resolution in cm/px when not 0; else the model's GSD when 'Resample files to the model's GSD' is ticked; else the raster's own pixels.&lt;br&gt;Tiles: the layer is cut into overlapping tiles; boxes found twice across tile borders are kept once (the best box) or merged. 'One box per object, whatever the class' also keeps one box where two classes claim the same object. 'Zoom pass' adds a pass over the layer magnified, e.g. 2 times, for objects of a few pixels; it costs about 1 + zoom x zoom the time. 'One layer per class' adds a styled layer per class to the GeoPackage.&lt;br&gt;&lt;br&gt;&lt;b&gt;From qgis_process or processing.run&lt;/b&gt;&lt;br&gt;Give a web layer as its data source text, as the layer's properties show it (type=xyz&amp;amp;url=https://tile.example.org/{z}/{x}/{y}.png&amp;amp;zmin=0&amp;amp;zmax=19, or a WMS crs=...&amp;amp;layers=...&amp;amp;url=...), or as wms://&amp;lt;data source&amp;gt; (also wcs://, virtualraster://).</source>
      <translation>Trouve de petits objets (véhicules, bateaux, avions, bâtiments) sur une couche raster et ajoute une couche avec un polygone par objet : sa classe, son score et sa surface, stylée par classe.&lt;br&gt;&lt;br&gt;&lt;b&gt;Les paramètres qui comptent&lt;/b&gt;&lt;br&gt;&lt;b&gt;Couche raster&lt;/b&gt; : un fichier image, ou une couche web (tuiles XYZ, WMS/WMTS, WCS).&lt;br&gt;&lt;b&gt;Où chercher&lt;/b&gt; : toute la couche, la partie de la carte visible (zoomez sur la zone, lancez), ou dans des polygones de masque.&lt;br&gt;&lt;b&gt;Résolution en cm/px&lt;/b&gt; : le seul réglage d'échelle. 0 (auto) lit la couche à la résolution au sol du modèle, ce qui convient à la plupart des images ; donnez p. ex. 15 pour lire une couche web à 15 cm par pixel.&lt;br&gt;&lt;b&gt;Confiance minimale&lt;/b&gt; : baissez-la pour trouver plus d'objets, montez-la pour moins de fausses alertes.&lt;br&gt;&lt;b&gt;Classes à garder&lt;/b&gt; : aucune cochée les garde toutes.&lt;br&gt;Fichier du modèle vide : le modèle fourni est utilisé.&lt;br&gt;&lt;br&gt;&lt;b&gt;Avancé&lt;/b&gt;&lt;br&gt;Échelle, ce qui l'emporte : « Pixels source par pixel du modèle » s'il n'est pas 0 ; sinon la résolution en cm/px si elle n'est pas 0 ; sinon la résolution du modèle si « Rééchantillonner à la résolution du modèle » est coché ; sinon les pixels du raster.&lt;br&gt;Tuiles : la couche est découpée en tuiles qui se recouvrent ; les boîtes trouvées deux fois de part et d'autre d'un bord de tuile sont gardées une fois (la meilleure) ou fusionnées. « Une boîte par objet, toutes classes » garde aussi une seule boîte quand deux classes revendiquent le même objet. La « passe zoom » ajoute une passe sur la couche agrandie, p. ex. 2 fois, pour les objets de quelques pixels ; elle coûte environ 1 + zoom x zoom fois le temps. « Une couche par classe » ajoute au GeoPackage une couche stylée par classe.&lt;br&gt;&lt;br&gt;&lt;b&gt;Depuis qgis_process ou processing.run&lt;/b&gt;&lt;br&gt;Donnez une couche web par le texte de sa source de données, tel que les propriétés de la couche le montrent (type=xyz&amp;amp;url=https://tile.example.org/{z}/{x}/{y}.png&amp;amp;zmin=0&amp;amp;zmax=19, ou un WMS crs=...&amp;amp;layers=...&amp;amp;url=...), ou sous la forme wms://&amp;lt;source de données&amp;gt; (aussi wcs://, virtualraster://).</translation>
    </message>
    <message>
      <source>Detect micro objects in a folder of rasters</source>
      <translation>Détecter des micro-objets dans un dossier de rasters</translation>
    </message>
    <message>
      <source>Runs the detection on every raster of a folder that matches the pattern (e.g. *.tif) and writes one vector file per raster into the output folder. Instead of a folder, give a STAC catalogue (an ItemCollection or Item JSON, a file or an http(s):// or s3:// URL; the asset key defaults to the visual/RGB asset) or a text file listing one raster URL per line: the rasters are then read over the network window by window, and outputs are named by item id. Resumable: rasters whose output exists are skipped, so a stopped run goes on where it stopped. A raster that fails is reported and the others still run. The summary table gives per raster the status, objects per class and seconds; it is also kept as summary.csv in the output folder. The detection settings are those of 'Detect micro objects'. Advanced: Workers runs the rasters in parallel on this machine with Dask (install it with Plugins &gt; Micro Object Detection &gt; Install dependencies), or on a Dask scheduler.</source>
      <translation>Lance la détection sur chaque raster d'un dossier qui correspond au motif (p. ex. *.tif) et écrit un fichier vecteur par raster dans le dossier de sortie. Au lieu d'un dossier, donnez un catalogue STAC (une ItemCollection ou un Item JSON, un fichier ou une URL http(s):// ou s3:// ; la clé d'asset est par défaut l'asset visuel/RVB) ou un fichier texte listant une URL de raster par ligne : les rasters sont alors lus par le réseau fenêtre par fenêtre, et les sorties sont nommées d'après l'identifiant de l'item. Reprise possible : les rasters dont la sortie existe sont sautés, un lancement arrêté reprend là où il s'est arrêté. Un raster en échec est signalé et les autres continuent. La table de synthèse donne par raster l'état, les objets par classe et les secondes ; elle est aussi gardée en summary.csv dans le dossier de sortie. Les réglages de détection sont ceux de « Détecter des micro-objets ». Avancé : Travailleurs traite les rasters en parallèle sur cette machine avec Dask (à installer avec Extensions &gt; Détection de micro-objets &gt; Installer les dépendances), ou sur un ordonnanceur Dask.</translation>
    </message>
    <message>
      <source>STAC asset key (empty: the visual/RGB asset)</source>
      <translation>Clé d'asset STAC (vide : l'asset visuel/RVB)</translation>
    </message>
    <message>
      <source>Give either a folder of rasters or a STAC catalogue / URL list, not both.</source>
      <translation>Donnez soit un dossier de rasters, soit un catalogue STAC / une liste d'URL, pas les deux.</translation>
    </message>
    <message>
      <source>Raster layer</source>
      <translation>Couche raster</translation>
    </message>
    <message>
      <source>Where to search</source>
      <translation>Où chercher</translation>
    </message>
    <message>
      <source>Search only in this extent</source>
      <translation>Chercher seulement dans cette emprise</translation>
    </message>
    <message>
      <source>Search only inside these polygons</source>
      <translation>Chercher seulement dans ces polygones</translation>
    </message>
    <message>
      <source>Also one layer per class (GeoPackage)</source>
      <translation>Aussi une couche par classe (GeoPackage)</translation>
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
      <source>Or: STAC catalogue or URL list</source>
      <translation>Ou : catalogue STAC ou liste d'URL</translation>
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
      <source>Workers (Dask processes; 0 = in QGIS)</source>
      <translation>Travailleurs (processus Dask ; 0 = dans QGIS)</translation>
    </message>
    <message>
      <source>Dask scheduler (tcp://host:8786)</source>
      <translation>Ordonnanceur Dask (tcp://hôte:8786)</translation>
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
      <source>Give a folder of rasters, or a STAC catalogue or a list of raster URLs.</source>
      <translation>Donnez un dossier de rasters, ou un catalogue STAC ou une liste d'URL de rasters.</translation>
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
      <source>Resolution in cm/px (0 = auto: the model's)</source>
      <translation>Résolution en cm/px (0 = auto : celle du modèle)</translation>
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
      <source>The STAC asset key is for a STAC catalogue, not a folder.</source>
      <translation>La clé d'asset STAC vaut pour un catalogue STAC, pas pour un dossier.</translation>
    </message>
    <message>
      <source>The Workers and Dask scheduler settings run on Dask, which QGIS's Python lacks. Install it with Plugins &gt; Micro Object Detection &gt; Install dependencies (tick Dask), or set Workers to 0 and leave the scheduler empty to run in QGIS.</source>
      <translation>Les paramètres Travailleurs et Ordonnanceur Dask s'exécutent sur Dask, absent du Python de QGIS. Installez-le avec Extensions &gt; Détection de micro-objets &gt; Installer les dépendances (cochez Dask), ou mettez Travailleurs à 0 et laissez l'ordonnanceur vide pour exécuter dans QGIS.</translation>
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
      <source>Folder not found: {}</source>
      <translation>Dossier introuvable : {}</translation>
    </message>
    <message>
      <source>STAC catalogue or URL list not found: {}</source>
      <translation>Catalogue STAC ou liste d'URL introuvable : {}</translation>
    </message>
    <message>
      <source>Automatic (GPU when there is one)</source>
      <translation>Automatique (le GPU s'il y en a un)</translation>
    </message>
    <message>
      <source>CPU</source>
      <translation>CPU</translation>
    </message>
    <message>
      <source>GPU (CUDA)</source>
      <translation>GPU (CUDA)</translation>
    </message>
    <message>
      <source>Intel GPU (OpenVINO)</source>
      <translation>GPU Intel (OpenVINO)</translation>
    </message>
    <message>
      <source>Intel NPU (OpenVINO)</source>
      <translation>NPU Intel (OpenVINO)</translation>
    </message>
    <message>
      <source>Model file (empty = the bundled model)</source>
      <translation>Modèle (vide = le modèle fourni)</translation>
    </message>
    <message>
      <source>Classes to keep (none = all)</source>
      <translation>Classes à garder (aucune = toutes)</translation>
    </message>
    <message>
      <source>Tile size in model pixels (0 = auto)</source>
      <translation>Taille des tuiles, px du modèle (0 = auto)</translation>
    </message>
    <message>
      <source>Tiles per pass (0 = auto: 1 on CPU, 8 on GPU)</source>
      <translation>Tuiles par passe (0 = auto : 1 CPU, 8 GPU)</translation>
    </message>
    <message>
      <source>Device</source>
      <translation>Processeur de calcul</translation>
    </message>
    <message>
      <source>Precision (automatic: full precision unless a faster one was measured for the model; bf16, fp16 and int8 need OpenVINO)</source>
      <translation>Précision (automatique : pleine précision, sauf si une précision plus rapide a été mesurée pour ce modèle ; bf16, fp16 et int8 demandent OpenVINO)</translation>
    </message>
    <message>
      <source>Boxes found twice across tiles</source>
      <translation>Boîtes trouvées deux fois entre tuiles</translation>
    </message>
    <message>
      <source>Overlap measured as</source>
      <translation>Recouvrement mesuré en</translation>
    </message>
    <message>
      <source>One box per object, whatever the class</source>
      <translation>Une boîte par objet, toutes classes</translation>
    </message>
    <message>
      <source>Other class names to keep (a,b,c)</source>
      <translation>Autres classes à garder (a,b,c)</translation>
    </message>
    <message>
      <source>Resample files to the model's GSD</source>
      <translation>Rééchantillonner à la résolution du modèle</translation>
    </message>
    <message>
      <source>Bands, e.g. 3,2,1 (empty = RGB)</source>
      <translation>Bandes, p. ex. 3,2,1 (vide = RVB)</translation>
    </message>
    <message>
      <source>The zoom is a magnification above 1 (e.g. 2), or 0 for no zoom pass.</source>
      <translation>Le zoom est un agrandissement supérieur à 1 (p. ex. 2), ou 0 pour aucune passe agrandie.</translation>
    </message>
    <message>
      <source>Minimum confidence</source>
      <translation>Confiance minimale</translation>
    </message>
    <message>
      <source>Tile overlap (fraction of a tile)</source>
      <translation>Recouvrement des tuiles (fraction)</translation>
    </message>
    <message>
      <source>Automatic</source>
      <translation>Automatique</translation>
    </message>
    <message>
      <source>Full (fp32)</source>
      <translation>Pleine (fp32)</translation>
    </message>
    <message>
      <source>bfloat16 (bf16)</source>
      <translation>bfloat16 (bf16)</translation>
    </message>
    <message>
      <source>Half (fp16)</source>
      <translation>Demi (fp16)</translation>
    </message>
    <message>
      <source>8-bit integer (int8)</source>
      <translation>Entier 8 bits (int8)</translation>
    </message>
    <message>
      <source>Keep the best box (NMS)</source>
      <translation>Garder la meilleure boîte (NMS)</translation>
    </message>
    <message>
      <source>Merge them into one box (NMM)</source>
      <translation>Les fusionner en une boîte (NMM)</translation>
    </message>
    <message>
      <source>Overlap that makes two boxes one</source>
      <translation>Recouvrement pour fusionner deux boîtes</translation>
    </message>
    <message>
      <source>Share of the union (IoU)</source>
      <translation>Part de l'union (IoU)</translation>
    </message>
    <message>
      <source>Share of the smaller box (IoS)</source>
      <translation>Part de la plus petite boîte (IoS)</translation>
    </message>
    <message>
      <source>Source pixels per model pixel (0 = auto)</source>
      <translation>Pixels source par pixel du modèle (0 = auto)</translation>
    </message>
    <message>
      <source>Zoom pass magnification (0 = off)</source>
      <translation>Passe zoom : grossissement (0 = aucune)</translation>
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
      <source>Model file (.pt or .onnx; empty = the bundled default model)</source>
      <translation>Fichier de modèle (.pt ou .onnx ; vide = le modèle par défaut fourni)</translation>
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
      <source>Trains a YOLOv12 detector on labelled rasters: xView GeoJSON labels with their images; YOLO (data.yaml), DOTA, COCO or Pascal VOC labels, their class names mapped onto the model's classes by a class mapping (unmapped names are skipped and counted in the log); or any polygon/point layer with a class field over one or more rasters (what you digitised). Rasters are cut into chips (cached), augmented (mosaic, rotations, flips, scale, colour), split into training and validation by image, and trained with the YOLO loss; the best model by validation mAP50-95 is written. By default the model and the run folder go into micro_detector/models and micro_detector/runs in your QGIS profile folder, where they stay after QGIS closes. The run folder receives the per-epoch metrics (results.csv, results.png), the final per-class table (metrics.csv), precision-recall curves, sample images and a resumable checkpoint. Start from: the bundled model (fine-tuning) learns from a few images; random weights need much more data (at least 20 images and 500 labelled objects), else the mAP stays near 0. Automatic picks the bundled model below that size. On a CPU, keep the scale small (n) and the epochs few; a GPU is much faster. Advanced: the repeat threshold shows chips of rare classes more often (with 0.3, chips of a class found in 1% of the chips 5.5 times per epoch); a range of ground sample distances shows each chip at a random GSD in it, and the model then serves rasters in that range at their own pixels (others are resampled to it); object sizes also zoom chips so that their objects appear at sizes drawn in that range, whatever the source's GSD (half the zooms each when both are set).</source>
      <translation>Entraîne un détecteur YOLOv12 sur des rasters étiquetés : des étiquettes GeoJSON xView avec leurs images ; des étiquettes YOLO (data.yaml), DOTA, COCO ou Pascal VOC, dont les noms de classes sont rapportés aux classes du modèle par une correspondance de classes (les noms sans correspondance sont ignorés et comptés dans le journal) ; ou toute couche de polygones ou de points avec un champ de classe sur un ou plusieurs rasters (ce que vous avez numérisé). Les rasters sont découpés en vignettes (mises en cache), augmentées (mosaïque, rotations, symétries, échelle, couleur), réparties entre entraînement et validation par image, et entraînées avec la perte YOLO ; le meilleur modèle selon le mAP50-95 de validation est écrit. Par défaut, le modèle et le dossier d'exécution vont dans micro_detector/models et micro_detector/runs dans le dossier de votre profil QGIS, où ils restent après la fermeture de QGIS. Le dossier d'exécution reçoit les métriques par époque (results.csv, results.png), le tableau final par classe (metrics.csv), les courbes précision-rappel, des images d'exemple et un point de reprise. Partir de : le modèle fourni (affinage) apprend à partir de quelques images ; des poids aléatoires demandent beaucoup plus de données (au moins 20 images et 500 objets étiquetés), sinon le mAP reste proche de 0. Automatique choisit le modèle fourni en dessous de cette taille. Sur un processeur, gardez une petite échelle (n) et peu d'époques ; un GPU est bien plus rapide. Avancé : le seuil de répétition montre plus souvent les vignettes des classes rares (avec 0,3, les vignettes d'une classe présente dans 1 % des vignettes 5,5 fois par époque) ; une plage de distances au sol (GSD) montre chaque vignette à une GSD tirée dans cette plage, et le modèle sert alors les rasters de cette plage à leurs propres pixels (les autres y sont rééchantillonnés) ; les tailles d'objets zooment aussi les vignettes pour que leurs objets apparaissent à des tailles tirées dans cette plage, quelle que soit la GSD de la source (la moitié des zooms chacun quand les deux sont donnés).</translation>
    </message>
    <message>
      <source>GSD (m/px) of label images that state none (JPEG / PNG)</source>
      <translation>GSD (m/px) des images étiquetées qui n'en indiquent pas (JPEG / PNG)</translation>
    </message>
    <message>
      <source>xView labels (GeoJSON with bounds_imcoords, type_id, image_id)</source>
      <translation>Étiquettes xView (GeoJSON avec bounds_imcoords, type_id, image_id)</translation>
    </message>
    <message>
      <source>Or: YOLO data.yaml, COCO .json, or a DOTA .txt / VOC .xml file (its whole folder is read)</source>
      <translation>Ou : data.yaml YOLO, .json COCO, ou un fichier .txt DOTA / .xml VOC (tout son dossier est lu)</translation>
    </message>
    <message>
      <source>Format of those labels</source>
      <translation>Format de ces étiquettes</translation>
    </message>
    <message>
      <source>Folder of the images (xView; DOTA; COCO and VOC when not beside the labels)</source>
      <translation>Dossier des images (xView ; DOTA ; COCO et VOC quand elles ne sont pas à côté des étiquettes)</translation>
    </message>
    <message>
      <source>Class mapping (xView: classes.json, empty = the one beside the labels; YOLO/DOTA/COCO/VOC: source name -&gt; class JSON, empty = the bundled one)</source>
      <translation>Correspondance des classes (xView : classes.json, vide = celui à côté des étiquettes ; YOLO/DOTA/COCO/VOC : JSON nom source -&gt; classe, vide = celui fourni)</translation>
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
      <source>Give one kind of labels: xView labels with their image folder, YOLO / DOTA / COCO / VOC labels, or a label layer with its class field and rasters.</source>
      <translation>Donnez un seul type d'étiquettes : des étiquettes xView avec leur dossier d'images, des étiquettes YOLO / DOTA / COCO / VOC, ou une couche d'étiquettes avec son champ de classe et ses rasters.</translation>
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
      <source>The bundled model is scale {}: training at scale {}, not {}.</source>
      <translation>Le modèle fourni est d'échelle {} : entraînement à l'échelle {}, et non {}.</translation>
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
      <source>Only {} images and {} labelled objects: too few to train from random weights (at least {} images and {} objects); the mAP will likely stay near 0. Start from the bundled model instead.</source>
      <translation>Seulement {} images et {} objets annotés : trop peu pour entraîner à partir de poids aléatoires (au moins {} images et {} objets) ; la mAP restera sans doute proche de 0. Partez plutôt du modèle fourni.</translation>
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
      <source>wrote {} objects to {}</source>
      <translation>{} objets écrits dans {}</translation>
    </message>
    <message>
      <source>warning: {}: {}</source>
      <translation>avertissement : {} : {}</translation>
    </message>
    <message>
      <source>{}: done before, skipped</source>
      <translation>{} : déjà fait, sauté</translation>
    </message>
    <message>
      <source>{}: error: {}</source>
      <translation>{} : erreur : {}</translation>
    </message>
    <message>
      <source>{}: {} tiles in {} blocks</source>
      <translation>{} : {} tuiles en {} blocs</translation>
    </message>
    <message>
      <source>read {} MB in {} requests</source>
      <translation>{} Mo lus en {} requêtes</translation>
    </message>
    <message>
      <source>{} x {} px, {} tiles of {} px (model {} px, scale {}: {}), overlap {} px</source>
      <translation>{} x {} px, {} tuiles de {} px (modèle {} px, échelle {} : {}), recouvrement {} px</translation>
    </message>
    <message>
      <source>every tile is nodata ({} tiles skipped): no detection was run; check the nodata value and the bands</source>
      <translation>toutes les tuiles sont sans données ({} tuiles sautées) : aucune détection n'a été faite ; vérifiez la valeur nodata et les bandes</translation>
    </message>
    <message>
      <source>not a tiled (cloud-optimized) GeoTIFF: its blocks are whole rows ({} x {} px), so every window downloads full rows of {} px, up to {}x the bytes of 512 px tiles; convert it once with gdal_translate -of COG for window reads</source>
      <translation>pas un GeoTIFF tuilé (optimisé pour le cloud) : ses blocs sont des lignes entières ({} x {} px), donc chaque fenêtre télécharge des lignes complètes de {} px, jusqu'à {}x les octets de tuiles de 512 px ; convertissez-le une fois avec gdal_translate -of COG pour des lectures par fenêtre</translation>
    </message>
    <message>
      <source>single grey band {} repeated to the model's {} bands (panchromatic imagery)</source>
      <translation>bande grise unique {} répétée sur les {} bandes du modèle (image panchromatique)</translation>
    </message>
    <message>
      <source>native pixels: raster GSD {} m within the model's {}</source>
      <translation>pixels natifs : résolution du raster {} m dans la plage du modèle ({})</translation>
    </message>
    <message>
      <source>native pixels: raster GSD {} m {}% finer than the model's {}, within the {}% left as is</source>
      <translation>pixels natifs : résolution du raster {} m, {} % plus fine que celle du modèle ({}), dans les {} % laissés tels quels</translation>
    </message>
    <message>
      <source>native pixels: raster GSD {} m {}% coarser than the model's {}, within the {}% left as is</source>
      <translation>pixels natifs : résolution du raster {} m, {} % plus grossière que celle du modèle ({}), dans les {} % laissés tels quels</translation>
    </message>
    <message>
      <source>resampled from {} m to the model's {} m</source>
      <translation>rééchantillonné de {} m aux {} m du modèle</translation>
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
    <message>
      <source>boat</source>
      <translation>bateau</translation>
    </message>
    <message>
      <source>building</source>
      <translation>bâtiment</translation>
    </message>
    <message>
      <source>plane</source>
      <translation>avion</translation>
    </message>
    <message>
      <source>vehicle</source>
      <translation>véhicule</translation>
    </message>
    <message>
      <source>missing</source>
      <translation>absent</translation>
    </message>
    <message>
      <source>the wheel folder {}</source>
      <translation>le dossier de wheels {}</translation>
    </message>
    <message>
      <source>Missing: {}</source>
      <translation>Manquant : {}</translation>
    </message>
    <message>
      <source>nothing</source>
      <translation>rien</translation>
    </message>
    <message>
      <source>Total about {:.0f} MB to download, {:.0f} MB on disk; {:.0f} MB free there</source>
      <translation>Total : environ {:.0f} Mo à télécharger, {:.0f} Mo sur le disque ; {:.0f} Mo libres à cet endroit</translation>
    </message>
    <message>
      <source>Into {} (used only by this plugin; QGIS's own packages are not changed)</source>
      <translation>Dans {} (utilisé seulement par cette extension ; les paquets de QGIS ne sont pas modifiés)</translation>
    </message>
    <message>
      <source>With {} -m pip</source>
      <translation>Avec {} -m pip</translation>
    </message>
    <message>
      <source>{} ({}; about {:.0f} MB download, {:.0f} MB on disk) from {}</source>
      <translation>{} ({} ; environ {:.0f} Mo à télécharger, {:.0f} Mo sur le disque) depuis {}</translation>
    </message>
    <message>
      <source>Micro Object Detection: install dependencies</source>
      <translation>Détection de micro-objets : installer les dépendances</translation>
    </message>
    <message>
      <source>ONNX Runtime (about 30 MB): detection</source>
      <translation>ONNX Runtime (environ 30 Mo) : détection</translation>
    </message>
    <message>
      <source>PyTorch, CPU build (about 200 MB download, 900 MB on disk): training and .pt models</source>
      <translation>PyTorch, version CPU (environ 200 Mo à télécharger, 900 Mo sur le disque) : entraînement et modèles .pt</translation>
    </message>
    <message>
      <source>ONNX (about 20 MB): export of trained models to .onnx, the faster CPU path for .pt models</source>
      <translation>ONNX (environ 20 Mo) : export des modèles entraînés en .onnx, le chemin CPU le plus rapide pour les modèles .pt</translation>
    </message>
    <message>
      <source>Dask (about 10 MB): the Workers option of detection in a folder</source>
      <translation>Dask (environ 10 Mo) : l'option Travailleurs de la détection dans un dossier</translation>
    </message>
    <message>
      <source>OpenVINO (about 45 MB): faster detection on x86 CPUs, and Intel GPUs and NPUs (device intel:gpu)</source>
      <translation>OpenVINO (environ 45 Mo) : détection plus rapide sur les processeurs x86, et sur les GPU et NPU Intel (périphérique intel:gpu)</translation>
    </message>
    <message>
      <source>Folder of downloaded wheels (offline install)</source>
      <translation>Dossier de wheels téléchargées (installation hors ligne)</translation>
    </message>
    <message>
      <source>Install</source>
      <translation>Installer</translation>
    </message>
    <message>
      <source>Uninstall</source>
      <translation>Désinstaller</translation>
    </message>
    <message>
      <source>Cancel install</source>
      <translation>Annuler l'installation</translation>
    </message>
    <message>
      <source>Copy diagnostics</source>
      <translation>Copier le diagnostic</translation>
    </message>
    <message>
      <source>Close</source>
      <translation>Fermer</translation>
    </message>
    <message>
      <source>Install for:</source>
      <translation>Installer pour :</translation>
    </message>
    <message>
      <source>Wheel folder, for sites without internet access (optional, pip --find-links):</source>
      <translation>Dossier de wheels, pour les sites sans accès à Internet (facultatif, pip --find-links) :</translation>
    </message>
    <message>
      <source>Nothing to install.</source>
      <translation>Rien à installer.</translation>
    </message>
    <message>
      <source>Installed: {}. Folder: {}</source>
      <translation>Installé : {}. Dossier : {}</translation>
    </message>
    <message>
      <source>none</source>
      <translation>aucun</translation>
    </message>
    <message>
      <source>Cancelled: nothing was installed.</source>
      <translation>Annulé : rien n'a été installé.</translation>
    </message>
    <message>
      <source>Installed: {}</source>
      <translation>Installé : {}</translation>
    </message>
    <message>
      <source>Checked: {}</source>
      <translation>Vérifié : {}</translation>
    </message>
  </context>
</TS>
