"""PII and secret scrubbing: `Scrubber(ScrubConfig(key=...)).scrub_text(...)` / `.scrub_value(...)`.

Pure stdlib (`re`, `hashlib`, `ipaddress`): it runs in the logs Worker before anything is stored,
archived or forwarded, in the security Worker on evidence, and inside Pyodide.
"""

from obs_schema.scrubbing.config import CLASSES, IpMode, ScrubConfig, ScrubConfigError
from obs_schema.scrubbing.scrubber import Scrubber

__all__ = ["CLASSES", "IpMode", "ScrubConfig", "ScrubConfigError", "Scrubber"]
