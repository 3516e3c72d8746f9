package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
)

// Metrics are the server's Prometheus metrics, in a registry of their own:
//
//	cimsess_sessions{class,status,logon_type}       sessions now, counted at scrape time
//	cimsess_sessions_scrape_success{class}          1 when the class could be enumerated
//	cimsess_requests_total{protocol,operation,status} requests by protocol ("cimxml", or the name a
//	                                                 handler was mounted with), operation and outcome
//	                                                 (CIM status name, or http_NNN)
//	cimsess_request_duration_seconds{protocol,operation}
//
// plus the Go runtime and process collectors.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// SessionClasses are the classes the sessions gauge counts.
var SessionClasses = []string{"Win32_Session", "Win32_ServerSession"}

// NewMetrics returns the metrics; om, when not nil, is enumerated at each
// scrape for the sessions gauge.
func NewMetrics(om *cimom.ObjectManager) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cimsess_requests_total",
			Help: "Requests by protocol, operation and outcome (CIM status name, or http_NNN for a request refused before it ran).",
		}, []string{"protocol", "operation", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cimsess_request_duration_seconds",
			Help:    "Time to answer a request, from its headers to the end of the response, by protocol and operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"protocol", "operation"}),
	}
	m.reg.MustRegister(m.requests, m.latency, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if om != nil {
		m.reg.MustRegister(&sessionCollector{om: om})
	}
	return m
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{MaxRequestsInFlight: 4, Timeout: 30 * time.Second})
}

// Registry returns the registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

func (m *Metrics) observe(protocol, op, status string, d time.Duration) {
	if op == "" {
		op = "none"
	}
	m.requests.WithLabelValues(protocol, op, status).Inc()
	m.latency.WithLabelValues(protocol, op).Observe(d.Seconds())
}

var (
	sessionsDesc = prometheus.NewDesc("cimsess_sessions",
		"Sessions on this machine now, by concrete class, Status and LogonType (empty where the class has none).",
		[]string{"class", "status", "logon_type"}, nil)
	scrapeDesc = prometheus.NewDesc("cimsess_sessions_scrape_success",
		"1 if the last scrape enumerated the class, 0 if it failed.", []string{"class"}, nil)
)

// sessionCollector enumerates the sessions at scrape time, as an
// administrator.
type sessionCollector struct{ om *cimom.ObjectManager }

// Describe sends the descriptions of the sessions metrics.
func (c *sessionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- sessionsDesc
	ch <- scrapeDesc
}

// Collect enumerates the session classes and sends their counts.
func (c *sessionCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type key struct{ class, status, logonType string }
	for _, cn := range SessionClasses {
		insts, err := c.om.EnumerateInstances(ctx, cn, cimom.EnumOptions{})
		ok := 1.0
		if err != nil {
			ok = 0
		}
		ch <- prometheus.MustNewConstMetric(scrapeDesc, prometheus.GaugeValue, ok, cn)
		counts := map[key]float64{}
		for _, in := range insts {
			k := key{class: in.ClassName, status: in.String("Status")}
			if v, ok := cim.AsInt64(in.Value("LogonType")); ok {
				k.logonType = strconv.FormatInt(v, 10)
			}
			counts[k]++
		}
		for k, n := range counts {
			ch <- prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, n, k.class, k.status, k.logonType)
		}
	}
}
