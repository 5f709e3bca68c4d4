# Creates the system user $1, in a group of its own, whose home is $2 and
# who cannot log in; a user of that name left by an earlier attempt is
# given that home and shell.
getent group "$1" >/dev/null || groupadd --system "$1"
if getent passwd "$1" >/dev/null; then
	usermod --gid "$1" --home "$2" --shell /usr/sbin/nologin "$1"
else
	useradd --system --gid "$1" --home-dir "$2" --no-create-home --shell /usr/sbin/nologin "$1"
fi
