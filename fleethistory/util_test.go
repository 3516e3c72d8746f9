package fleethistory

import (
	"os"
	"strings"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o600) }
