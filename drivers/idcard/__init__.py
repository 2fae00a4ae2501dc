"""ID-card readers (居民身份证阅读器): the SAM serial protocol, keyboard-output and vendor-HTTP
readers (``backends``), the thread that owns a reader (``reader``), and simulators."""
