package server

import (
	"bytes"
	"errors"
	"flag"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

const cfgDay = 24 * time.Hour

// cfgDefaults is what ParseConfig gives with no flags and no environment.
func cfgDefaults() Config {
	return Config{
		Addr:               "127.0.0.1:8080",
		DB:                 "portal.db",
		IdleTimeout:        12 * time.Hour,
		MaxLifetime:        14 * cfgDay,
		FlushInterval:      30 * time.Second,
		Retention:          30 * cfgDay,
		ActivityRetention:  90 * cfgDay,
		MaxSessions:        100,
		DBPool:             10,
		DBConnectTimeout:   10 * time.Second,
		LiveStreamsPerUser: 10,
		LiveStreams:        20000,
		LiveHeartbeat:      25 * time.Second,
		ReauthWindow:       15 * time.Minute,
		ProxyHeader:        "X-Forwarded-For",
		LogFormat:          "text",
	}
}

func cfgEnv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// TestConfigValues sets every option by flag and by environment variable,
// and checks that a flag beats its variable.
func TestConfigValues(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(c *Config)
	}{
		{name: "defaults", want: func(c *Config) {}},
		{name: "empty variables are unset", env: map[string]string{"PORTAL_ADDR": "", "PORTAL_DB": ""}, want: func(c *Config) {}},

		{name: "-addr", args: []string{"-addr", "0.0.0.0:9000"}, want: func(c *Config) { c.Addr = "0.0.0.0:9000" }},
		{name: "-public-url", args: []string{"-public-url", "https://portal.example.com"}, want: func(c *Config) { c.PublicURL = "https://portal.example.com" }},
		{name: "PORTAL_PUBLIC_URL", env: map[string]string{"PORTAL_PUBLIC_URL": "http://localhost:8080"}, want: func(c *Config) { c.PublicURL = "http://localhost:8080" }},
		{name: "PORTAL_ADDR", env: map[string]string{"PORTAL_ADDR": "[::1]:0"}, want: func(c *Config) { c.Addr = "[::1]:0" }},
		{name: "-db", args: []string{"-db", "/var/lib/portal/portal.db"}, want: func(c *Config) { c.DB = "/var/lib/portal/portal.db" }},
		{name: "PORTAL_DB", env: map[string]string{"PORTAL_DB": "/data/portal.db"}, want: func(c *Config) { c.DB = "/data/portal.db" }},
		{name: "-geoip-db", args: []string{"-geoip-db", "/geoip/GeoLite2-City.mmdb"}, want: func(c *Config) { c.GeoIPDB = "/geoip/GeoLite2-City.mmdb" }},
		{name: "PORTAL_GEOIP_DB", env: map[string]string{"PORTAL_GEOIP_DB": "/var/lib/GeoIP/GeoLite2-City.mmdb"}, want: func(c *Config) { c.GeoIPDB = "/var/lib/GeoIP/GeoLite2-City.mmdb" }},
		{name: "-idle-timeout", args: []string{"-idle-timeout", "30m"}, want: func(c *Config) { c.IdleTimeout = 30 * time.Minute }},
		{name: "PORTAL_IDLE_TIMEOUT in days", env: map[string]string{"PORTAL_IDLE_TIMEOUT": "2d"}, want: func(c *Config) { c.IdleTimeout = 2 * cfgDay }},
		{name: "-max-lifetime", args: []string{"-max-lifetime", "7d"}, want: func(c *Config) { c.MaxLifetime = 7 * cfgDay }},
		{name: "PORTAL_MAX_LIFETIME", env: map[string]string{"PORTAL_MAX_LIFETIME": "720h"}, want: func(c *Config) { c.MaxLifetime = 30 * cfgDay }},
		{name: "-flush-interval", args: []string{"-flush-interval", "5s"}, want: func(c *Config) { c.FlushInterval = 5 * time.Second }},
		{name: "PORTAL_FLUSH_INTERVAL", env: map[string]string{"PORTAL_FLUSH_INTERVAL": "1m"}, want: func(c *Config) { c.FlushInterval = time.Minute }},
		{name: "-retention", args: []string{"-retention", "0s"}, want: func(c *Config) { c.Retention = 0 }},
		{name: "PORTAL_RETENTION", env: map[string]string{"PORTAL_RETENTION": "90d"}, want: func(c *Config) { c.Retention = 90 * cfgDay }},
		{name: "-activity-retention", args: []string{"-activity-retention", "7d"}, want: func(c *Config) { c.ActivityRetention = 7 * cfgDay }},
		{name: "PORTAL_ACTIVITY_RETENTION", env: map[string]string{"PORTAL_ACTIVITY_RETENTION": "365d"}, want: func(c *Config) { c.ActivityRetention = 365 * cfgDay }},
		{name: "-max-sessions", args: []string{"-max-sessions", "0"}, want: func(c *Config) { c.MaxSessions = 0 }},
		{name: "-live-streams-per-user", args: []string{"-live-streams-per-user", "3"}, want: func(c *Config) { c.LiveStreamsPerUser = 3 }},
		{name: "PORTAL_LIVE_STREAMS", env: map[string]string{"PORTAL_LIVE_STREAMS": "50000"}, want: func(c *Config) { c.LiveStreams = 50000 }},
		{name: "PORTAL_LIVE_HEARTBEAT", env: map[string]string{"PORTAL_LIVE_HEARTBEAT": "15s"}, want: func(c *Config) { c.LiveHeartbeat = 15 * time.Second }},
		{name: "PORTAL_MAX_SESSIONS", env: map[string]string{"PORTAL_MAX_SESSIONS": "100000"}, want: func(c *Config) { c.MaxSessions = 100000 }},
		{name: "-trusted-proxies", args: []string{"-trusted-proxies", "10.0.0.1, 192.168.1.7/24,::1"}, want: func(c *Config) {
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32"), netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("::1/128")}
		}},
		{name: "PORTAL_TRUSTED_PROXIES", env: map[string]string{"PORTAL_TRUSTED_PROXIES": "172.16.0.0/12"}, want: func(c *Config) {
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("172.16.0.0/12")}
		}},
		{name: "-proxy-header", args: []string{"-proxy-header", "X-Real-IP"}, want: func(c *Config) { c.ProxyHeader = "X-Real-IP" }},
		{name: "PORTAL_PROXY_HEADER", env: map[string]string{"PORTAL_PROXY_HEADER": "CF-Connecting-IP"}, want: func(c *Config) { c.ProxyHeader = "CF-Connecting-IP" }},
		{name: "-secure-cookies alone", args: []string{"-secure-cookies"}, want: func(c *Config) { c.SecureCookies = true }},
		{name: "PORTAL_SECURE_COOKIES", env: map[string]string{"PORTAL_SECURE_COOKIES": "1"}, want: func(c *Config) { c.SecureCookies = true }},
		{name: "-log-format", args: []string{"-log-format", "json"}, want: func(c *Config) { c.LogFormat = "json" }},
		{name: "PORTAL_LOG_FORMAT", env: map[string]string{"PORTAL_LOG_FORMAT": "json"}, want: func(c *Config) { c.LogFormat = "json" }},
		{name: "-demo", args: []string{"-demo"}, want: func(c *Config) { c.Demo = true }},
		{name: "PORTAL_DEMO", env: map[string]string{"PORTAL_DEMO": "true"}, want: func(c *Config) { c.Demo = true }},
		{name: "-demo -demo-reset", args: []string{"-demo", "-demo-reset"}, want: func(c *Config) { c.Demo, c.DemoReset = true, true }},
		{name: "PORTAL_DEMO_RESET", env: map[string]string{"PORTAL_DEMO": "true", "PORTAL_DEMO_RESET": "TRUE"}, want: func(c *Config) { c.Demo, c.DemoReset = true, true }},
		{name: "-version", args: []string{"-version"}, want: func(c *Config) { c.Version = true }},
		{name: "--double-dash flags", args: []string{"--addr=127.0.0.1:1", "--demo=true"}, want: func(c *Config) { c.Addr, c.Demo = "127.0.0.1:1", true }},
		{name: "values are trimmed", env: map[string]string{"PORTAL_ADDR": " 127.0.0.1:81 ", "PORTAL_IDLE_TIMEOUT": " 1h"}, want: func(c *Config) { c.Addr, c.IdleTimeout = "127.0.0.1:81", time.Hour }},

		{name: "flag beats env", args: []string{"-addr", "127.0.0.1:1", "-idle-timeout", "1h", "-demo=false", "-max-sessions", "5"},
			env: map[string]string{"PORTAL_ADDR": "127.0.0.1:2", "PORTAL_IDLE_TIMEOUT": "2h", "PORTAL_DEMO": "true", "PORTAL_MAX_SESSIONS": "7", "PORTAL_LOG_FORMAT": "json"},
			want: func(c *Config) {
				c.Addr, c.IdleTimeout, c.MaxSessions, c.LogFormat = "127.0.0.1:1", time.Hour, 5, "json"
			}},
		{name: "a flag set to its default still beats env", args: []string{"-db", "portal.db"}, env: map[string]string{"PORTAL_DB": "/elsewhere.db"}, want: func(c *Config) {}},
		{name: "-version ignores PORTAL_ variables it has no flag for", args: []string{"-version"}, env: map[string]string{"PORTAL_VERSION": "true"}, want: func(c *Config) { c.Version = true }},
		{name: "no PORTAL_VERSION", env: map[string]string{"PORTAL_VERSION": "true"}, want: func(c *Config) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			got, err := ParseConfig(tc.args, cfgEnv(tc.env), &stderr)
			if err != nil {
				t.Fatalf("ParseConfig(%q): %v", tc.args, err)
			}
			want := cfgDefaults()
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ParseConfig(%q) with %v\n got %+v\nwant %+v", tc.args, tc.env, got, want)
			}
			if stderr.Len() != 0 {
				t.Errorf("wrote to stderr: %s", stderr.String())
			}
		})
	}
}

// TestConfigErrors gives each option a bad value, by flag or variable, and
// expects its sentence.
func TestConfigErrors(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"-addr", "localhost"}, want: `-addr must be host:port like 127.0.0.1:8080, got "localhost"`},
		{env: map[string]string{"PORTAL_ADDR": "127.0.0.1:"}, want: `-addr must be host:port like 127.0.0.1:8080, got "127.0.0.1:"`},
		{args: []string{"-db", " "}, want: "-db must name a database file, got an empty value"},
		{args: []string{"-idle-timeout", "abc"}, want: `-idle-timeout must be a duration like 30m, 12h or 14d, at least 1m0s, got "abc"`},
		{env: map[string]string{"PORTAL_IDLE_TIMEOUT": "30s"}, want: `-idle-timeout must be a duration like 30m, 12h or 14d, at least 1m0s, got "30s"`},
		{args: []string{"-max-lifetime", "14"}, want: `-max-lifetime must be a duration like 30m, 12h or 14d, at least 1m0s, got "14"`},
		{env: map[string]string{"PORTAL_MAX_LIFETIME": "99999d"}, want: `-max-lifetime must be a duration like 30m, 12h or 14d, at least 1m0s, got "99999d"`},
		{args: []string{"-flush-interval", "500ms"}, want: `-flush-interval must be a duration like 30m, 12h or 14d, at least 1s, got "500ms"`},
		{args: []string{"-flush-interval", "2m"}, want: `-flush-interval must be at most 1m so last-active stays accurate to a minute, got "2m"`},
		{env: map[string]string{"PORTAL_RETENTION": "-1h"}, want: `-retention must be a duration like 30m, 12h or 14d, at least 0s, got "-1h"`},
		{args: []string{"-activity-retention", "10m"}, want: `-activity-retention must be a duration like 30m, 12h or 14d, at least 1h0m0s, got "10m"`},
		{args: []string{"-idle-timeout", "15d"}, want: "-idle-timeout (15d) must not be longer than -max-lifetime (14d)"},
		{args: []string{"-max-sessions", "-1"}, want: `-max-sessions must be a whole number from 0 to 100000, got "-1"`},
		{args: []string{"-live-streams-per-user", "0"}, want: `-live-streams-per-user must be a whole number from 1 to 1000, got "0"`},
		{env: map[string]string{"PORTAL_LIVE_STREAMS": "many"}, want: `-live-streams must be a whole number from 1 to 1000000, got "many"`},
		{args: []string{"-live-heartbeat", "500ms"}, want: `-live-heartbeat must be a duration like 30m, 12h or 14d, at least 1s, got "500ms"`},
		{args: []string{"-reauth-window", "30s"}, want: `-reauth-window must be a duration like 30m, 12h or 14d, at least 1m0s, got "30s"`},
		{args: []string{"-live-heartbeat", "1h"}, want: `-live-heartbeat must be at most 10m, got "1h"`},
		{env: map[string]string{"PORTAL_MAX_SESSIONS": "lots"}, want: `-max-sessions must be a whole number from 0 to 100000, got "lots"`},
		{args: []string{"-max-sessions", "100001"}, want: `-max-sessions must be a whole number from 0 to 100000, got "100001"`},
		{args: []string{"-trusted-proxies", "10.0.0.1,proxy.local"}, want: `-trusted-proxies must be comma-separated IPs or CIDRs: "proxy.local" is not an IP address or CIDR range`},
		{args: []string{"-proxy-header", "X Forwarded"}, want: `-proxy-header must be a header name like X-Forwarded-For, got "X Forwarded"`},
		{env: map[string]string{"PORTAL_PROXY_HEADER": " "}, want: `-proxy-header must be a header name like X-Forwarded-For, got " "`},
		{args: []string{"-secure-cookies=yes"}, want: `-secure-cookies must be true or false, got "yes"`},
		{env: map[string]string{"PORTAL_SECURE_COOKIES": "on"}, want: `-secure-cookies must be true or false, got "on"`},
		{args: []string{"-log-format", "xml"}, want: `-log-format must be text or json, got "xml"`},
		{env: map[string]string{"PORTAL_DEMO": "sure"}, want: `-demo must be true or false, got "sure"`},
		{args: []string{"-demo-reset"}, want: "-demo-reset only makes sense with -demo"},
		{args: []string{"-version=maybe"}, want: `-version must be true or false, got "maybe"`},
		{args: []string{"-addr", "127.0.0.1:1", "serve"}, want: `unexpected argument "serve"; commands come first and take their own flags, e.g. portal user list -db PATH (see 'portal help')`},
		{args: []string{"-port", "80"}, want: "flag provided but not defined: -port"},
		{args: []string{"-public-url", "https://10.0.0.5"}, want: `-public-url must name the host, not an IP address (a passkey is bound to a name), got "https://10.0.0.5"`},
		{env: map[string]string{"PORTAL_PUBLIC_URL": "http://portal.example.com"}, want: `-public-url must use https:// (browsers allow passkeys over plain http only on localhost), got "http://portal.example.com"`},
		{args: []string{"-public-url", "https://portal.example.com/app"}, want: `-public-url must be the portal's address alone, without a path, query or user, got "https://portal.example.com/app"`},
	}
	for _, tc := range tests {
		name := strings.Join(tc.args, " ")
		for k, v := range tc.env {
			name += k + "=" + v
		}
		t.Run(name, func(t *testing.T) {
			_, err := ParseConfig(tc.args, cfgEnv(tc.env), &bytes.Buffer{})
			if err == nil || err.Error() != tc.want {
				t.Errorf("got error %v\nwant %s", err, tc.want)
			}
		})
	}

	// Every bad value is reported at once, one sentence per line.
	_, err := ParseConfig([]string{"-addr", "x", "-log-format", "yaml"}, cfgEnv(map[string]string{"PORTAL_MAX_SESSIONS": "-5"}), &bytes.Buffer{})
	want := "-addr must be host:port like 127.0.0.1:8080, got \"x\"\n" +
		"-max-sessions must be a whole number from 0 to 100000, got \"-5\"\n" +
		"-log-format must be text or json, got \"yaml\""
	if err == nil || err.Error() != want {
		t.Errorf("several bad values: got\n%v\nwant\n%s", err, want)
	}
}

// TestConfigHelp: -h returns flag.ErrHelp after listing every flag with its
// environment variable and default.
func TestConfigHelp(t *testing.T) {
	var stderr bytes.Buffer
	_, err := ParseConfig([]string{"-h"}, cfgEnv(nil), &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v, want flag.ErrHelp", err)
	}
	help := stderr.String()
	if !strings.HasPrefix(help, "Usage: portal [flags]\n") || !strings.Contains(help, "portal help") {
		t.Errorf("usage line missing:\n%s", help)
	}
	for _, o := range options {
		line := "  -" + o.name
		if o.env != "" {
			line += " [$" + o.env + "]"
		}
		line += "\n    \t" + o.help
		if !strings.Contains(help, line) {
			t.Errorf("help lacks %q", line)
		}
	}
	if !strings.Contains(help, `(default "14d")`) {
		t.Errorf("help does not show defaults:\n%s", help)
	}
	if !strings.Contains(help, "PORTAL_IDLE_TIMEOUT") || strings.Contains(help, "PORTAL_VERSION") {
		t.Errorf("wrong variables:\n%s", help)
	}
}

// TestPublicURL: the demo's passkeys work at http://localhost and its
// port; a real deployment's only at -public-url; none without it.
func TestPublicURL(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Demo: true, Addr: "127.0.0.1:8080"}, "http://localhost:8080"},
		{Config{Demo: true, Addr: "0.0.0.0:9000"}, "http://localhost:9000"},
		{Config{Demo: true, Addr: "127.0.0.1:0"}, ""}, // the port is not known yet
		{Config{Demo: true, Addr: "127.0.0.1:8080", PublicURL: "https://demo.example.com"}, "https://demo.example.com"},
		{Config{Addr: "127.0.0.1:8080"}, ""},
		{Config{Addr: "127.0.0.1:8080", PublicURL: "https://portal.example.com"}, "https://portal.example.com"},
	} {
		if got := publicURL(tc.cfg); got != tc.want {
			t.Errorf("publicURL(demo %v, addr %s, public %q) = %q, want %q", tc.cfg.Demo, tc.cfg.Addr, tc.cfg.PublicURL, got, tc.want)
		}
	}
}
