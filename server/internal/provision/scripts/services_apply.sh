# Starts every unit behind the services "$@" and enables it at boot.
for service in "$@"; do
	for unit in $(units "$service"); do
		svc enabled "$unit" || svc enable "$unit"
		svc status "$unit" || svc start "$unit"
	done
done
