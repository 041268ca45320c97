// Package metrics keeps the app's Prometheus metrics and serves them. The
// domain packages count with plain atomics (auth's login failures and
// throttle refusals, audit's entries written, the backend's pool); this
// package reads them at each scrape, so none of them imports Prometheus.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"musicadmin/internal/audit"
	"musicadmin/internal/auth"
	"musicadmin/internal/backend"
)

// Metrics is one process's registry and the request metrics that the
// server's middleware observes.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// Unmatched is the route label of a request no route matched: the raw
// path is never a label, or a client could make unbounded series.
const Unmatched = "unmatched"

// durationBuckets span the app's pages (a millisecond) to the export of a
// million rows (seconds).
var durationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// New registers the metrics of a process serving db: requests, latency,
// the pool, login failures, throttle refusals, audit entries, build info,
// and Go's and the process's own.
func New(version string, db backend.Backend) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "app_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "app_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: durationBuckets,
		}, []string{"route", "method"}),
	}
	counter := func(name, help string, read func() uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(read()) })
	}
	reg.MustRegister(
		m.requests, m.duration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "app_build_info",
			Help:        "The app's version and database driver (always 1).",
			ConstLabels: prometheus.Labels{"version": version, "driver": db.Driver()},
		}, func() float64 { return 1 }),
		counter("app_login_failures_total", "Logins refused for a wrong user name or password.", auth.LoginFailures),
		counter("app_throttle_refusals_total", "Logins and API requests refused by the login throttle (429).",
			auth.ThrottleRefusals),
		counter("app_audit_entries_total", "Audit log entries written by this process.", audit.Written),
		poolCollector{db: db},
	)
	return m
}

// Observe records one answered request.
func (m *Metrics) Observe(route, method string, status int, took time.Duration) {
	if route == "" {
		route = Unmatched
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(took.Seconds())
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// poolCollector reads the backend's pool at each scrape.
type poolCollector struct{ db backend.Backend }

var (
	poolMaxOpen = prometheus.NewDesc("app_db_pool_max_open_connections", "The pool's bound on open connections.", nil, nil)
	poolOpen    = prometheus.NewDesc("app_db_pool_open_connections", "Open connections to the database.", nil, nil)
	poolInUse   = prometheus.NewDesc("app_db_pool_in_use_connections", "Connections lent out.", nil, nil)
	poolIdle    = prometheus.NewDesc("app_db_pool_idle_connections", "Idle connections.", nil, nil)
	poolWaits   = prometheus.NewDesc("app_db_pool_wait_total", "Times a request waited for a connection.", nil, nil)
	poolWaited  = prometheus.NewDesc("app_db_pool_wait_seconds_total", "Time spent waiting for a connection.", nil, nil)
)

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolMaxOpen, poolOpen, poolInUse, poolIdle, poolWaits, poolWaited} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.db.Pool()
	ch <- prometheus.MustNewConstMetric(poolMaxOpen, prometheus.GaugeValue, float64(s.MaxOpen))
	ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(s.Open))
	ch <- prometheus.MustNewConstMetric(poolInUse, prometheus.GaugeValue, float64(s.InUse))
	ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(s.Idle))
	ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(poolWaited, prometheus.CounterValue, s.WaitDuration.Seconds())
}
