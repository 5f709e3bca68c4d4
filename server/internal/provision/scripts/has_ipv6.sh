# Succeeds when the kernel has IPv6 enabled.
[ -s /proc/net/if_inet6 ]
