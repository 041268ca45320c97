package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// CPU per request. Latency on a shared machine moves with whatever else
// runs there; the CPU time a server process spends per request does not
// (much): it is the cost of the work itself, which is what the app/floor
// ratio is meant to show. The load reads each server's CPU time (user and
// system, from /proc/PID/stat) before and after each of its slices, so a
// page's figure is its server's CPU over the requests it answered.

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat's times:
// 100 on every Linux the bench runs on.
const clockTicks = 100

// procCPU returns the CPU time (user + system) process pid has used, or 0
// when it cannot be read (not Linux, the process gone).
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// count the fields after its closing one. utime and stime are fields
	// 14 and 15.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// cpuPerRequest is the server's CPU time per answered request under the
// load of r, or 0 when it was not read.
func (r *loadResult) cpuPerRequest() time.Duration {
	if n := r.requests(); n > 0 && r.cpu > 0 {
		return r.cpu / time.Duration(n)
	}
	return 0
}

// us formats d in microseconds.
func us(d time.Duration) string {
	if d <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

// cpuHeader names the columns of the CPU table: per server its CPU time
// per request, and the SQLite app's over the floor's.
func cpuHeader(targets []string) []string {
	h := []string{"size", "conns", "page"}
	for _, t := range targets {
		h = append(h, t+" cpu/req")
	}
	if len(targets) > 1 && targets[1] == "floor" {
		h = append(h, targets[0]+"/floor cpu")
	}
	return h
}

// cpuRows are the rows of the CPU table of r.
func cpuRows(r sizeResult) [][]string {
	var rows [][]string
	floor := len(r.targets) > 1 && r.targets[1] == "floor"
	for _, c := range r.runs {
		for _, p := range c.pages {
			row := []string{strconv.Itoa(r.size), strconv.Itoa(c.conns), p.name}
			for k := range p.loads {
				if p.loads[k].skipped {
					row = append(row, "-")
					continue
				}
				row = append(row, us(p.loads[k].cpuPerRequest()))
			}
			if floor {
				if p.loads[1].skipped {
					row = append(row, "-")
				} else {
					row = append(row, ratio(p.loads[0].cpuPerRequest(), p.loads[1].cpuPerRequest()))
				}
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// cpuNote says what the CPU table shows.
const cpuNote = "cpu/req is the server process's CPU time (user + system) over the requests it answered: " +
	"the work itself, which other load on the machine moves far less than latency."

// printCPU writes the CPU table of the results.
func printCPU(w io.Writer, results []sizeResult) {
	fmt.Fprintln(w, "CPU per request:")
	writeAligned(w, cpuHeader(results[0].targets), allRows(results, cpuRows))
	fmt.Fprintln(w, cpuNote)
	fmt.Fprintln(w)
}

// cpuMarkdown is the Markdown section of the CPU table.
func cpuMarkdown(results []sizeResult) string {
	return "\n## CPU per request\n\n" + cpuNote + "\n\n" + markdownTable(cpuHeader(results[0].targets), allRows(results, cpuRows))
}
