// The Go side of the runtime benchmarks; benchmarks/src/bin/goro_rt.rs is the goro side.
//
// Usage: go-rt spawn | skynet | sleeps | parked N
//
// Each run measures one workload once and prints its RESULT line(s). Timing starts inside
// main, after the runtime is up.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Sizes: the same as in benchmarks/src/lib.rs.
const (
	spawnN       = 1_000_000
	skynetLeaves = 1_000_000
	skynetFanout = 10
	skynetSum    = 499_999_500_000
	sleepsN      = 100_000
	sleepFor     = 10 * time.Millisecond
	parkSettle   = 100 * time.Millisecond
)

const usage = "usage: go-rt spawn | skynet | sleeps | parked N"

func main() {
	args := os.Args[1:]
	switch {
	case len(args) == 1 && args[0] == "spawn":
		spawn()
	case len(args) == 1 && args[0] == "skynet":
		skynet()
	case len(args) == 1 && args[0] == "sleeps":
		sleeps()
	case len(args) == 2 && args[0] == "parked":
		n, err := strconv.Atoi(args[1])
		if err != nil || n <= 0 {
			fail(usage)
		}
		parked(n)
	default:
		fail(usage)
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(2)
}

// report prints one measurement in the format run.sh and report.py parse.
func report(workload string, n int, metric string, value float64) {
	fmt.Printf("RESULT system=go workload=%s n=%d metric=%s value=%.3f\n", workload, n, metric, value)
}

func ms(d time.Duration) float64 {
	return float64(d.Nanoseconds()) / 1e6
}

// cpuTime is the user plus system CPU time of the process so far (getrusage(RUSAGE_SELF)).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail("getrusage: " + err.Error())
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssBytes is the resident set size: resident pages from /proc/self/statm times the page size.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		fail("read /proc/self/statm: " + err.Error())
	}
	fields := strings.Fields(string(b))
	if len(fields) < 2 {
		fail("bad /proc/self/statm")
	}
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		fail("bad /proc/self/statm: " + err.Error())
	}
	return pages * int64(os.Getpagesize())
}

// spawn: 1M goroutines that store a number in a preallocated slice, then all waited for.
func spawn() {
	results := make([]int, spawnN)
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(spawnN)
	for i := 0; i < spawnN; i++ {
		go func(i int) {
			results[i] = i
			wg.Done()
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	sum := 0
	for _, r := range results {
		sum += r
	}
	if sum != spawnN*(spawnN-1)/2 {
		fail(fmt.Sprintf("spawn: wrong sum %d", sum))
	}
	report("spawn", spawnN, "ns_per_goroutine", float64(elapsed.Nanoseconds())/spawnN)
}

// skynetNode is the classic skynet node: a leaf sends its number, an inner node starts its
// children on a channel of its own and sends the sum of what they send.
func skynetNode(c chan<- int, num, size int) {
	if size == 1 {
		c <- num
		return
	}
	child := size / skynetFanout
	rc := make(chan int, skynetFanout)
	for i := 0; i < skynetFanout; i++ {
		go skynetNode(rc, num+i*child, child)
	}
	sum := 0
	for i := 0; i < skynetFanout; i++ {
		sum += <-rc
	}
	c <- sum
}

// skynet: a 10-ary tree of goroutines with 1M leaves (1,111,111 goroutines).
func skynet() {
	start := time.Now()
	c := make(chan int, 1)
	go skynetNode(c, 0, skynetLeaves)
	sum := <-c
	elapsed := time.Since(start)
	if sum != skynetSum {
		fail(fmt.Sprintf("skynet: wrong sum %d, want %d", sum, skynetSum))
	}
	report("skynet", skynetLeaves, "wall_ms", ms(elapsed))
}

// sleeps: 100k goroutines each sleeping 10 ms, all waited for.
func sleeps() {
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	start := time.Now()
	for i := 0; i < sleepsN; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(sleepFor)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	report("sleeps", sleepsN, "wall_ms", ms(elapsed))
	report("sleeps", sleepsN, "cpu_ms", ms(cpu))
}

// parked: n goroutines all blocked at once on one shared unbuffered channel; resident bytes
// per goroutine.
func parked(n int) {
	rss0 := rssBytes()
	gate := make(chan struct{})
	var started, all sync.WaitGroup
	started.Add(n)
	all.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer all.Done()
			started.Done()
			<-gate
		}()
	}
	started.Wait()
	time.Sleep(parkSettle)
	rss1 := rssBytes()
	close(gate)
	all.Wait()
	report("parked", n, "bytes_per_goroutine", float64(rss1-rss0)/float64(n))
}
