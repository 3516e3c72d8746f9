package linux

import "strings"

// Status values of CIM_ManagedSystemElement.Status that Linux sessions take.
const (
	StatusOK       = "OK"
	StatusStarting = "Starting"
	StatusStopping = "Stopping"
	StatusLostComm = "Lost Comm"
)

// statusOf is the one table that maps what the sources say of a session to
// its Status:
//
//	a process of the session is alive, logind says "opening"  → Starting
//	a process of the session is alive, logind says "closing"  → Stopping
//	a process of the session is alive, its utmp record was
//	  seen and is now gone (its logout is written)              → Stopping
//	a process of the session is alive, otherwise              → OK
//	no process of the session is alive (a ghost)              → Lost Comm
//
// A ghost is never shown as live, whatever its records still claim.
func statusOf(alive bool, logindState string, loggedOut bool) string {
	if !alive {
		return StatusLostComm
	}
	switch strings.ToLower(logindState) {
	case "opening":
		return StatusStarting
	case "closing":
		return StatusStopping
	}
	if loggedOut {
		return StatusStopping
	}
	return StatusOK
}

// Win32_LogonSession.LogonType values used on Linux.
const (
	LogonInteractive       uint32 = 2
	LogonNetwork           uint32 = 3
	LogonBatch             uint32 = 4
	LogonService           uint32 = 5
	LogonRemoteInteractive uint32 = 10
)

// logonTypeOf is the one table that maps a session's shape to LogonType:
//
//	a terminal, and a remote host                        → 10 RemoteInteractive
//	a terminal or a seat (console, X11, Wayland), local  → 2 Interactive
//	no terminal, PAM service sshd (ssh host command)     → 3 Network
//	no terminal, PAM service cron or atd                 → 4 Batch
//	no terminal, the user's service manager (systemd-user, logind class "manager") → 5 Service
//	anything else                                        → NULL (not known, never guessed)
func logonTypeOf(hasTTY, remote bool, seat, service, class string) (uint32, bool) {
	switch {
	case hasTTY && remote:
		return LogonRemoteInteractive, true
	case hasTTY || seat != "":
		return LogonInteractive, true
	}
	switch strings.ToLower(service) {
	case "sshd":
		return LogonNetwork, true
	case "cron", "crond", "atd":
		return LogonBatch, true
	case "systemd-user":
		return LogonService, true
	}
	if strings.HasPrefix(strings.ToLower(class), "manager") {
		return LogonService, true
	}
	return 0, false
}

// pamServiceOf names the PAM service of a session from its leader's
// command name, for when logind does not say: only programs whose PAM
// service name is fixed are named, anything else is not known.
func pamServiceOf(comm string) string {
	switch comm {
	case "sshd", "sshd-session":
		return "sshd"
	case "login":
		return "login"
	case "cron", "crond", "CRON":
		return "cron"
	case "atd":
		return "atd"
	case "su":
		return "su"
	case "sudo":
		return "sudo"
	case "systemd":
		return "systemd-user"
	}
	return ""
}
