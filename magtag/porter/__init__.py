"""Hardware-free core of the IoT Porter MagTag firmware."""

FW_VERSION = "1.0.0"
