# Succeeds when an installed package matches any of the dpkg patterns "$@".
dpkg-query -W -f '${db:Status-Status}\n' "$@" 2>/dev/null | grep -qx installed
