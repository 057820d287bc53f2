"""IoT Porter MagTag firmware (package `porter`) and its host simulator (`sim`)."""
