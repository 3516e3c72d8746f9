package wql

import (
	"strings"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// The date forms WMI's WQL accepts beside DMTF datetimes ("WQL-Supported
// Date Formats"): ISO, US numeric, and month names, each alone or
// followed by a time, in local time unless an offset follows.
var (
	wmiDateLayouts = []string{
		"2006-01-02", "2006/01/02", "20060102",
		"01/02/2006", "1/2/2006", "01-02-2006", "1-2-2006",
		"January 2, 2006", "January 2 2006", "Jan 2, 2006", "Jan 2 2006",
		"2 January 2006", "2 Jan 2006", "2 January, 2006",
		"Monday, January 2, 2006", "Mon, Jan 2, 2006",
	}
	wmiTimeLayouts = []string{
		"", " 15:04", " 15:04:05", " 15:04:05.999999999", "T15:04", "T15:04:05", "T15:04:05.999999999",
		" 3:04 PM", " 3:04:05 PM", " 3:04PM", " 3 PM", " 3PM",
	}
	wmiZoneLayouts = []string{"", "Z07:00", " Z07:00", "-0700", " -0700", " MST"}
)

// parseDateLiteral reads a datetime constant: a DMTF datetime (or
// interval), or one of WMI's date forms, taken in loc unless it carries
// an offset.
func parseDateLiteral(s string, loc *time.Location) (cim.DateTime, error) {
	d, err := cim.ParseDateTime(s)
	if err == nil {
		return d, nil
	}
	t := strings.Join(strings.Fields(s), " ")
	if t == "" || len(t) > 64 {
		return cim.DateTime{}, err
	}
	for _, dl := range wmiDateLayouts {
		if t[0] >= '0' && t[0] <= '9' && dl[0] > '9' || t[0] > '9' && dl[0] <= '9' {
			continue
		}
		for _, tl := range wmiTimeLayouts {
			for _, zl := range wmiZoneLayouts {
				if tl == "" && zl != "" && zl[0] != ' ' && zl[0] != 'Z' {
					continue
				}
				tm, perr := time.ParseInLocation(dl+tl+zl, t, loc)
				if perr != nil {
					continue
				}
				if zl == " MST" {
					// Go takes an unknown zone name as offset 0: only UTC and
					// GMT (and loc's own names) are meant.
					name, _ := tm.Zone()
					if name != "UTC" && name != "GMT" && tm.Location() != loc {
						continue
					}
				}
				return cim.NewDateTime(tm), nil
			}
		}
	}
	return cim.DateTime{}, err
}
