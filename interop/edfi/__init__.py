"""Ed-Fi XML interchange import (Ed-Fi 1.x with inBloom's SLI extensions, and Ed-Fi 5.2).

xml.py reads interchange files as a stream; v1.py and v52.py turn each element into a neutral
record (`Rec`) whatever the version, with the builders both share in common.py; loader.py resolves
natural keys and upserts; service.py runs a whole import in one transaction.
"""

from interop.edfi.service import FORMAT, edfi_run
from interop.registry import Importer, register_importer

register_importer(Importer(format=FORMAT, label="Ed-Fi XML interchange", run=edfi_run))
