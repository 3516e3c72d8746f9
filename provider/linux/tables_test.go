package linux

import "testing"

func TestStatusOf(t *testing.T) {
	for _, c := range []struct {
		alive     bool
		state     string
		loggedOut bool
		want      string
	}{
		{true, "", false, StatusOK},
		{true, "active", false, StatusOK},
		{true, "online", false, StatusOK},
		{true, "opening", false, StatusStarting},
		{true, "OPENING", false, StatusStarting},
		{true, "closing", false, StatusStopping},
		{true, "", true, StatusStopping},
		{true, "active", true, StatusStopping},
		{true, "opening", true, StatusStarting},
		{false, "", false, StatusLostComm},
		{false, "", true, StatusLostComm},
		{false, "active", false, StatusLostComm},
		{false, "opening", false, StatusLostComm},
		{false, "closing", false, StatusLostComm},
	} {
		if got := statusOf(c.alive, c.state, c.loggedOut); got != c.want {
			t.Errorf("statusOf(%v, %q, %v) = %q, want %q", c.alive, c.state, c.loggedOut, got, c.want)
		}
	}
}

func TestLogonTypeOf(t *testing.T) {
	for _, c := range []struct {
		tty, remote          bool
		seat, service, class string
		want                 uint32
		known                bool
	}{
		{true, true, "", "sshd", "user", LogonRemoteInteractive, true},
		{true, true, "", "", "", LogonRemoteInteractive, true},
		{true, false, "", "login", "user", LogonInteractive, true},
		{true, false, "", "", "", LogonInteractive, true},
		{false, false, "seat0", "gdm-password", "user", LogonInteractive, true},
		{false, true, "seat0", "", "", LogonInteractive, true},
		{false, true, "", "sshd", "user", LogonNetwork, true},
		{false, false, "", "SSHD", "", LogonNetwork, true},
		{false, false, "", "cron", "background", LogonBatch, true},
		{false, false, "", "crond", "", LogonBatch, true},
		{false, false, "", "atd", "", LogonBatch, true},
		{false, false, "", "systemd-user", "manager", LogonService, true},
		{false, false, "", "", "manager-early", LogonService, true},
		{false, false, "", "su", "user", 0, false},
		{false, false, "", "", "", 0, false},
		{false, true, "", "", "", 0, false},
	} {
		got, ok := logonTypeOf(c.tty, c.remote, c.seat, c.service, c.class)
		if got != c.want || ok != c.known {
			t.Errorf("logonTypeOf(%v, %v, %q, %q, %q) = %d, %v; want %d, %v", c.tty, c.remote, c.seat, c.service, c.class, got, ok, c.want, c.known)
		}
	}
}

func TestPAMServiceOf(t *testing.T) {
	for comm, want := range map[string]string{
		"sshd": "sshd", "sshd-session": "sshd", "login": "login", "cron": "cron", "CRON": "cron", "crond": "cron",
		"atd": "atd", "su": "su", "sudo": "sudo", "systemd": "systemd-user", "bash": "", "": "", "gdm-session-wor": "",
	} {
		if got := pamServiceOf(comm); got != want {
			t.Errorf("pamServiceOf(%q) = %q, want %q", comm, got, want)
		}
	}
}

func TestLooksLikeAddr(t *testing.T) {
	for s, want := range map[string]bool{
		"192.0.2.1": true, "::1": true, "fe80::1%eth0": true, "2001:db8::a": true, "::ffff:10.0.0.1": true,
		"": false, "host.example": false, "h": false, "%eth0": false, "[::1]": false, "10.0.0.1 ": false,
	} {
		if got := looksLikeAddr(s); got != want {
			t.Errorf("looksLikeAddr(%q) = %v, want %v", s, got, want)
		}
	}
}
