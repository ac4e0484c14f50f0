# svwar with its -b/--bindingip honoured. sipvicious 0.3.3's svwar parses -b
# but never passes it on (svwar.py main() builds TakeASip without
# bindingip), so its socket binds 0.0.0.0 and a scan of 127.0.0.1 comes
# from 127.0.0.1. The tests need the scan to come from the outsider's
# address, so this runs Debian's own svwar with the binding address given.
#   python3 svwar_bound.py BINDIP [svwar options] target
import sys

sys.path.insert(0, "/usr/share/sipvicious")
from sipvicious import svwar  # noqa: E402

bind = sys.argv.pop(1)
init = svwar.TakeASip.__init__


def bound_init(self, *args, **kwargs):
    kwargs["bindingip"] = bind
    init(self, *args, **kwargs)


svwar.TakeASip.__init__ = bound_init
sys.argv[0] = "svwar"
sys.exit(svwar.main())
