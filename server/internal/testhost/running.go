package testhost

// Running returns the test hosts testhosts.sh started, for programs that
// have no testing.TB (cmd/chom-bench). Unlike Hosts it ignores
// CHOM_INTEGRATION: a caller of Running has asked for the hosts.
func Running() ([]Host, error) {
	script, err := findScript()
	if err != nil {
		return nil, err
	}
	return load(stateDir(), script)
}
