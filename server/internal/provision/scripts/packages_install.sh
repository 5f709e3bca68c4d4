# Installs the packages "$@" without questions, keeping existing
# configuration files. Package lists older than a day are refreshed first,
# so that a new server does not fetch from stale indexes.
export DEBIAN_FRONTEND=noninteractive
apt="apt-get -q -o DPkg::Lock::Timeout=300"
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
	$apt update
fi
$apt -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	install --no-install-recommends "$@"
