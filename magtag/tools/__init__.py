"""Host-only tools that produce files shipped with the firmware."""
