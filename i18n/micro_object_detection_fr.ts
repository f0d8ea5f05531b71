<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr">
  <context>
    <name>MicroDetector</name>
    <message>
      <source>Micro Object Detection</source>
      <translation>Détection de micro-objets</translation>
    </message>
    <message>
      <source>needs torch (or onnxruntime for ONNX models); see the log for how to install it.</source>
      <translation>a besoin de torch (ou d'onnxruntime pour les modèles ONNX) ; le journal dit comment l'installer.</translation>
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
      <source>Detect micro objects</source>
      <translation>Détecter des micro-objets</translation>
    </message>
    <message>
      <source>Detection</source>
      <translation>Détection</translation>
    </message>
    <message>
      <source>Finds small objects (boats, buildings, planes, vehicles) on a georeferenced raster with a YOLOv12 model, tile by tile at the model's ground sample distance, merges duplicates across tile borders and writes one polygon per object in the raster's CRS, with its class, score and area. Without a model file the bundled default model is used. An extent or a mask layer limits the search. The result is styled per class.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Detect micro objects in a folder of rasters</source>
      <translation>Détecter des micro-objets dans un dossier de rasters</translation>
    </message>
    <message>
      <source>Runs the detection on every raster of a folder that matches the pattern and writes one vector file per raster into the output folder. Resumable: rasters whose output exists are skipped, so a stopped run goes on where it stopped. A raster that fails is reported and the others still run. The summary table gives per raster the status, objects per class and seconds; it is also kept as summary.csv in the output folder.</source>
      <translation type="unfinished" />
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
      <source>Raster</source>
      <translation>Raster</translation>
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
      <source>Detections</source>
      <translation>Détections</translation>
    </message>
    <message>
      <source>The raster must be a file GDAL can open.</source>
      <translation>Le raster doit être un fichier que GDAL sait ouvrir.</translation>
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
      <source>Band numbers start at 1</source>
      <translation>Les numéros de bande commencent à 1</translation>
    </message>
    <message>
      <source>Model: {} ({})</source>
      <translation>Modèle : {} ({})</translation>
    </message>
    <message>
      <source>Cancelled: nothing was written.</source>
      <translation>Annulé : rien n'a été écrit.</translation>
    </message>
    <message>
      <source>{} objects found: {}</source>
      <translation>{} objets trouvés : {}</translation>
    </message>
    <message>
      <source>Detections {}</source>
      <translation>Détections {}</translation>
    </message>
    <message>
      <source>Cancelled: the rasters finished so far are kept; run again to go on.</source>
      <translation>Annulé : les rasters déjà terminés sont gardés ; relancez pour continuer.</translation>
    </message>
    <message>
      <source>Bands must be whole numbers separated by commas, e.g. 3,2,1</source>
      <translation>Les bandes doivent être des nombres entiers séparés par des virgules, par exemple 3,2,1</translation>
    </message>
    <message>
      <source>The raster {} is not georeferenced (no CRS): georeference it first.</source>
      <translation>Le raster {} n'est pas géoréférencé (pas de SCR) : géoréférencez-le d'abord.</translation>
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
      <source>The model has no class {}; it knows {}</source>
      <translation>Le modèle n'a pas de classe {} ; il connaît {}</translation>
    </message>
    <message>
      <source>Train a detection model</source>
      <translation>Entraîner un modèle de détection</translation>
    </message>
    <message>
      <source>Training</source>
      <translation>Entraînement</translation>
    </message>
    <message>
      <source>Trains a YOLOv12 detector on labelled rasters: xView GeoJSON labels with their images, or any polygon/point layer with a class field over one or more rasters (what you digitised). Rasters are cut into chips (cached), augmented (mosaic, rotations, flips, scale, colour), split into training and validation by image, and trained with the YOLO loss; the best model by validation mAP50-95 is written. The run folder receives the per-epoch metrics (results.csv, results.png), the final per-class table (metrics.csv), precision-recall curves, sample images and a resumable checkpoint. On a CPU, keep the scale small (n) and the epochs few; a GPU is much faster.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Evaluate a detection model</source>
      <translation>Évaluer un modèle de détection</translation>
    </message>
    <message>
      <source>Runs a model over labelled rasters with the same tiled detection as the Detect algorithm and gives per class and overall: images, instances, precision, recall, mAP at IoU 0.5 and mAP at IoU 0.5:0.95 (COCO 101-point interpolation). A class is scored only on images that annotate it. Outputs the table and an HTML report with precision-recall curves and sample images.</source>
      <translation type="unfinished" />
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
      <translation type="unfinished" />
    </message>
    <message>
      <source>Lowest confidence considered</source>
      <translation>Plus faible confiance prise en compte</translation>
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
      <source>Train at this ground sample distance in m/px (0 = native pixels)</source>
      <translation>Entraîner à cette résolution au sol en m/px (0 = pixels natifs)</translation>
    </message>
    <message>
      <source>Start from this model file</source>
      <translation>Partir de ce fichier de modèle</translation>
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
      <source>Only the validation images of the split</source>
      <translation>Seulement les images de validation du partage</translation>
    </message>
    <message>
      <source>Metrics per class</source>
      <translation>Métriques par classe</translation>
    </message>
    <message>
      <source>Report</source>
      <translation>Rapport</translation>
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
      <source>{} training and {} validation images; classes {}</source>
      <translation>{} images d'entraînement et {} de validation ; classes {}</translation>
    </message>
    <message>
      <source>Cancelled: no model was written; the run folder keeps the last checkpoint to resume from.</source>
      <translation>Annulé : aucun modèle n'a été écrit ; le dossier de l'entraînement garde le dernier point de contrôle pour reprendre.</translation>
    </message>
    <message>
      <source>Cancelled.</source>
      <translation>Annulé.</translation>
    </message>
    <message>
      <source>Checkpoint not found: {}</source>
      <translation>Point de contrôle introuvable : {}</translation>
    </message>
    <message>
      <source>Labels not found: {}</source>
      <translation>Étiquettes introuvables : {}</translation>
    </message>
    <message>
      <source>No class mapping: choose one (looked for {}).</source>
      <translation>Pas de correspondance des classes : choisissez-en une (cherchée : {}).</translation>
    </message>
  </context>
</TS>
