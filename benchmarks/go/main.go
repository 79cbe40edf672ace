// The Go side of the runtime benchmarks; benchmarks/src/bin/goro_rt.rs is the goro side.
//
// Usage: go-rt spawn | skynet | sleeps | parked N
//
//	| pingpong0 | pingpong1 | spsc | spsc1k | mpmc1024 | mpmc0 | workerpool2 | workerpool8 | ring
//	| mutex1 | mutex8 | ctxcancel | pool2 | pooldyn2 | poolmap2 | blocking
//	| async_spsc | async_mpmc | async_pingpong
//	| echo1 | echo100 | echo10k | idle10k | idle100k  (optionally followed by a connection count)
//
// Each run measures one workload once and prints its RESULT line(s). Timing starts inside
// main, after the runtime is up. The async workloads compare the Rust systems' async channel
// operations in tokio tasks; Go has no futures to await (its channel operations block the
// goroutine, measured by spsc, mpmc1024 and pingpong1), so it prints
// "SKIP <workload>: <reason>" on stderr for them and exits 0, as the Rust peers do for the
// workloads they do not implement.
package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

	pingpongN     = 1_000_000  // round trips
	spscN         = 10_000_000 // messages
	spscCap       = 1024
	spsc1kN       = 1_000_000 // 1 KiB messages through a cap-1024 channel
	mpmcProducers = 4
	mpmcConsumers = 4
	mpmcBigN      = 10_000_000 // messages through the cap-1024 channel
	mpmcBigCap    = 1024
	mpmcSmallN    = 1_000_000 // messages through the unbuffered channel
	poolJobs      = 1_000_000
	poolCap       = 1024 // capacity of both the jobs and the results channel
	ringSize      = 10_000
	ringHops      = 1_000_000

	mutexN          = 10_000_000 // lock/unlock pairs of mutex1 and mutex8
	mutexGoroutines = 8          // goroutines sharing the lock in mutex8
	ctxWaiters      = 100_000    // goroutines waiting on a context in ctxcancel

	blockingN     = 1_000                // goroutines each making one blocking system call
	blockingFor   = 1 * time.Millisecond // how long each blocking call (nanosleep) lasts
	blockingTrips = 20_000               // ping-pong round trips beside the blocked goroutines
)

const usage = "usage: go-rt select4 | spawn | skynet | sleeps | parked N | pingpong0 | pingpong1 | spsc | spsc1k" +
	" | mpmc1024 | mpmc0 | workerpool2 | workerpool8 | ring | mutex1 | mutex8 | ctxcancel" +
	" | pool2 | pooldyn2 | poolmap2 | blocking | async_spsc | async_mpmc | async_pingpong" +
	" | echo1 | echo100 | echo10k | idle10k | idle100k (a network workload takes an optional connection count)"

// noAsync is why Go skips the async workloads.
const noAsync = "Go has no async/await: its channel operations block the goroutine" +
	" (spsc, mpmc1024 and pingpong1 measure them)"

func main() {
	args := os.Args[1:]
	if netMain(args) {
		return
	}
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
	case len(args) == 1 && args[0] == "pingpong0":
		pingpong("pingpong0", 0)
	case len(args) == 1 && args[0] == "pingpong1":
		pingpong("pingpong1", 1)
	case len(args) == 1 && args[0] == "spsc":
		spsc()
	case len(args) == 1 && args[0] == "spsc1k":
		spsc1k()
	case len(args) == 1 && args[0] == "mpmc1024":
		mpmc("mpmc1024", mpmcBigN, mpmcBigCap)
	case len(args) == 1 && args[0] == "mpmc0":
		mpmc("mpmc0", mpmcSmallN, 0)
	case len(args) == 1 && args[0] == "workerpool2":
		workerpool("workerpool2", 2)
	case len(args) == 1 && args[0] == "workerpool8":
		workerpool("workerpool8", 8)
	case len(args) == 1 && args[0] == "select4":
		select4()
	case len(args) == 1 && args[0] == "ring":
		ring()
	case len(args) == 1 && args[0] == "mutex1":
		mutexUncontended()
	case len(args) == 1 && args[0] == "mutex8":
		mutexContended()
	case len(args) == 1 && args[0] == "ctxcancel":
		ctxCancel()
	case len(args) == 1 && (args[0] == "pool2" || args[0] == "pooldyn2"):
		poolTiny(args[0])
	case len(args) == 1 && args[0] == "poolmap2":
		poolMap()
	case len(args) == 1 && args[0] == "blocking":
		blocking()
	case len(args) == 1 && (args[0] == "async_spsc" || args[0] == "async_mpmc" || args[0] == "async_pingpong"):
		skip(args[0], noAsync)
	default:
		fail(usage)
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(2)
}

// skip says that this program does not implement workload, and why: "SKIP <workload>:
// <reason>" on stderr and exit code 0, without a RESULT line (run.sh records the skip).
func skip(workload, reason string) {
	fmt.Fprintf(os.Stderr, "SKIP %s: %s\n", workload, reason)
	os.Exit(0)
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

// perOp is the elapsed time in nanoseconds divided by n.
func perOp(d time.Duration, n int) float64 {
	return float64(d.Nanoseconds()) / float64(n)
}

// pingpong: main sends 0..pingpongN-1 on ping, one echo goroutine sends each value back on
// pong; channels of capacity cp. ns per round trip.
func pingpong(name string, cp int) {
	ping := make(chan int, cp)
	pong := make(chan int, cp)
	done := make(chan struct{})
	start := time.Now()
	go func() {
		for v := range ping {
			pong <- v
		}
		close(done)
	}()
	sum := 0
	for i := 0; i < pingpongN; i++ {
		ping <- i
		sum += <-pong
	}
	elapsed := time.Since(start)
	close(ping)
	<-done
	if want := pingpongN * (pingpongN - 1) / 2; sum != want {
		fail(fmt.Sprintf("%s: wrong sum %d, want %d", name, sum, want))
	}
	report(name, pingpongN, "ns_per_roundtrip", perOp(elapsed, pingpongN))
}

// spsc: one producer goroutine sends 0..spscN-1 through a cap-1024 channel and closes it;
// one consumer goroutine ranges over it, counting and summing. ns per message.
func spsc() {
	ch := make(chan int, spscCap)
	type tally struct{ sum, count int }
	out := make(chan tally, 1)
	start := time.Now()
	go func() {
		for i := 0; i < spscN; i++ {
			ch <- i
		}
		close(ch)
	}()
	go func() {
		var t tally
		for v := range ch {
			t.sum += v
			t.count++
		}
		out <- t
	}()
	t := <-out
	elapsed := time.Since(start)
	if want := spscN * (spscN - 1) / 2; t.sum != want || t.count != spscN {
		fail(fmt.Sprintf("spsc: got sum %d count %d, want %d and %d", t.sum, t.count, want, spscN))
	}
	report("spsc", spscN, "ns_per_msg", perOp(elapsed, spscN))
}

// spsc1k: spsc with 1 KiB messages: one producer goroutine sends messages 0..spsc1kN-1,
// message i a [1024]byte carrying i in its first eight bytes (little-endian), through a
// cap-1024 channel and closes it; one consumer goroutine ranges over it, counting and summing
// the numbers the messages carry. ns per message.
func spsc1k() {
	ch := make(chan [1024]byte, spscCap)
	type tally struct{ sum, count int }
	out := make(chan tally, 1)
	start := time.Now()
	go func() {
		for i := 0; i < spsc1kN; i++ {
			var m [1024]byte
			binary.LittleEndian.PutUint64(m[:8], uint64(i))
			ch <- m
		}
		close(ch)
	}()
	go func() {
		var t tally
		for m := range ch {
			t.sum += int(binary.LittleEndian.Uint64(m[:8]))
			t.count++
		}
		out <- t
	}()
	t := <-out
	elapsed := time.Since(start)
	if want := spsc1kN * (spsc1kN - 1) / 2; t.sum != want || t.count != spsc1kN {
		fail(fmt.Sprintf("spsc1k: got sum %d count %d, want %d and %d", t.sum, t.count, want, spsc1kN))
	}
	report("spsc1k", spsc1kN, "ns_per_msg", perOp(elapsed, spsc1kN))
}

// mpmc: 4 producers send n messages in all (0..n-1, a quarter each) through one channel of
// capacity cp; 4 consumers range over it. Main closes the channel once every producer is
// done. ns per message.
func mpmc(name string, n, cp int) {
	ch := make(chan int, cp)
	per := n / mpmcProducers
	sums := make([]int, mpmcConsumers)
	counts := make([]int, mpmcConsumers)
	var producers, consumers sync.WaitGroup
	start := time.Now()
	for c := 0; c < mpmcConsumers; c++ {
		consumers.Add(1)
		go func(c int) {
			defer consumers.Done()
			sum, count := 0, 0
			for v := range ch {
				sum += v
				count++
			}
			sums[c], counts[c] = sum, count
		}(c)
	}
	for p := 0; p < mpmcProducers; p++ {
		producers.Add(1)
		go func(p int) {
			defer producers.Done()
			for i := p * per; i < (p+1)*per; i++ {
				ch <- i
			}
		}(p)
	}
	producers.Wait()
	close(ch)
	consumers.Wait()
	elapsed := time.Since(start)
	sum, count := 0, 0
	for c := 0; c < mpmcConsumers; c++ {
		sum += sums[c]
		count += counts[c]
	}
	if want := n * (n - 1) / 2; sum != want || count != n {
		fail(fmt.Sprintf("%s: got sum %d count %d, want %d and %d", name, sum, count, want, n))
	}
	report(name, n, "ns_per_msg", perOp(elapsed, n))
}

// select4: 4 producers, each on its own unbuffered channel, 1,000,000 messages each; one
// consumer receives all 4,000,000 with a 4-case select, dropping each channel once closed.
func select4() {
	const per = 1_000_000
	chans := make([]chan int, 4)
	for i := range chans {
		chans[i] = make(chan int)
	}
	start := time.Now()
	for p := 0; p < 4; p++ {
		go func(c chan int) {
			for i := 0; i < per; i++ {
				c <- i
			}
			close(c)
		}(chans[p])
	}
	a, b, c, d := chans[0], chans[1], chans[2], chans[3]
	sum, count := 0, 0
	for a != nil || b != nil || c != nil || d != nil {
		select {
		case v, ok := <-a:
			if !ok {
				a = nil
				continue
			}
			sum += v
			count++
		case v, ok := <-b:
			if !ok {
				b = nil
				continue
			}
			sum += v
			count++
		case v, ok := <-c:
			if !ok {
				c = nil
				continue
			}
			sum += v
			count++
		case v, ok := <-d:
			if !ok {
				d = nil
				continue
			}
			sum += v
			count++
		}
	}
	elapsed := time.Since(start)
	if want := 4 * per * (per - 1) / 2; sum != want || count != 4*per {
		fail(fmt.Sprintf("select4: got sum %d count %d, want %d and %d", sum, count, want, 4*per))
	}
	report("select4", 4*per, "ns_per_msg", perOp(elapsed, 4*per))
}

// poolWorker is the article's worker, with a tiny job: results <- j*2.
func poolWorker(jobs <-chan int, results chan<- int, wg *sync.WaitGroup) {
	defer wg.Done()
	for j := range jobs {
		results <- j * 2
	}
}

// workerpool: the basic worker pool. A feeder goroutine sends jobs 1..poolJobs and closes
// jobs; `workers` workers range over jobs and send j*2 on results; a goroutine closes
// results once the WaitGroup of the workers is done; main sums the results. ns per job.
func workerpool(name string, workers int) {
	jobs := make(chan int, poolCap)
	results := make(chan int, poolCap)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 1; w <= workers; w++ {
		wg.Add(1)
		go poolWorker(jobs, results, &wg)
	}
	go func() {
		for j := 1; j <= poolJobs; j++ {
			jobs <- j
		}
		close(jobs)
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	sum, count := 0, 0
	for r := range results {
		sum += r
		count++
	}
	elapsed := time.Since(start)
	if want := poolJobs * (poolJobs + 1); sum != want || count != poolJobs {
		fail(fmt.Sprintf("%s: got sum %d count %d, want %d and %d", name, sum, count, want, poolJobs))
	}
	report(name, poolJobs, "ns_per_job", perOp(elapsed, poolJobs))
}

// ring: ringSize goroutines, goroutine i receiving on link i and sending on link i+1 (mod
// ringSize), all links unbuffered. Main starts the ring, waits until every goroutine has
// started, then sends a token 0 into link 0; every hop adds one, and the goroutine that
// makes it ringHops hands it to main instead of passing it on. ns per hop.
func ring() {
	links := make([]chan int, ringSize)
	for i := range links {
		links[i] = make(chan int)
	}
	type last struct{ token, who int }
	done := make(chan last, 1)
	var started, all sync.WaitGroup
	started.Add(ringSize)
	all.Add(ringSize)
	for i := 0; i < ringSize; i++ {
		go func(i int, in <-chan int, out chan<- int) {
			defer all.Done()
			started.Done()
			for t := range in {
				t++
				if t == ringHops {
					done <- last{t, i}
				} else {
					out <- t
				}
			}
		}(i, links[i], links[(i+1)%ringSize])
	}
	started.Wait()
	start := time.Now()
	links[0] <- 0
	got := <-done
	elapsed := time.Since(start)
	for _, l := range links {
		close(l)
	}
	all.Wait()
	if wantWho := (ringHops - 1) % ringSize; got.token != ringHops || got.who != wantWho {
		fail(fmt.Sprintf("ring: token %d ended at goroutine %d, want %d at %d",
			got.token, got.who, ringHops, wantWho))
	}
	report("ring", ringHops, "ns_per_hop", perOp(elapsed, ringHops))
}

// guardedCounter is a counter and the mutex that guards it, the Go tour's SafeCounter shape
// (goro's Mutex<u64> holds its counter the same way, in memory next to the lock).
type guardedCounter struct {
	mu sync.Mutex
	n  int
}

// mutex1: one goroutine locks and unlocks a mutex mutexN times around a counter increment.
// ns per lock/unlock pair.
func mutexUncontended() {
	c := &guardedCounter{}
	start := time.Now()
	for i := 0; i < mutexN; i++ {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	elapsed := time.Since(start)
	if c.n != mutexN {
		fail(fmt.Sprintf("mutex1: counter %d, want %d", c.n, mutexN))
	}
	report("mutex1", mutexN, "ns_per_op", perOp(elapsed, mutexN))
}

// mutex8: mutexGoroutines goroutines share one mutex, each doing its share of mutexN
// lock/increment/unlock rounds. ns per lock/unlock pair.
func mutexContended() {
	var mu sync.Mutex
	var wg sync.WaitGroup
	counter := 0
	per := mutexN / mutexGoroutines
	start := time.Now()
	for g := 0; g < mutexGoroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if counter != per*mutexGoroutines {
		fail(fmt.Sprintf("mutex8: counter %d, want %d", counter, per*mutexGoroutines))
	}
	report("mutex8", mutexN, "ns_per_op", perOp(elapsed, mutexN))
}

// ctxcancel: ctxWaiters goroutines each wait on their own child of one cancellable parent
// context; once all of them are parked, the parent is cancelled. Timed from the cancel until
// every goroutine has seen its child's Done channel closed and exited. ns per waiter.
func ctxCancel() {
	parent, cancel := context.WithCancel(context.Background())
	var ready, done sync.WaitGroup
	ready.Add(ctxWaiters)
	done.Add(ctxWaiters)
	for i := 0; i < ctxWaiters; i++ {
		child, childCancel := context.WithCancel(parent)
		go func() {
			defer done.Done()
			defer childCancel()
			ready.Done()
			<-child.Done()
		}()
	}
	ready.Wait()
	time.Sleep(parkSettle)
	start := time.Now()
	cancel()
	done.Wait()
	elapsed := time.Since(start)
	report("ctxcancel", ctxWaiters, "ns_per_waiter", perOp(elapsed, ctxWaiters))
}

// pool2, pooldyn2: poolJobs tiny jobs through the hand-written pool a Go programmer writes
// (Go has no pool type, so both names run this): a jobs channel of capacity poolCap, two
// workers ranging over it, a WaitGroup. Each job's work is one multiplication, summed per
// worker. Timed from the first submit until every job has run. ns per job.
func poolTiny(name string) {
	const workers = 2
	jobs := make(chan int, poolCap)
	sums := make([]int, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := 0
			for j := range jobs {
				s += j * 2
			}
			sums[w] = s
		}(w)
	}
	for j := 1; j <= poolJobs; j++ {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	if got, want := sums[0]+sums[1], poolJobs*(poolJobs+1); got != want {
		fail(fmt.Sprintf("%s: sum %d, want %d", name, got, want))
	}
	report(name, poolJobs, "ns_per_job", perOp(elapsed, poolJobs))
}

// poolmap2: the ordered map a Go programmer writes by hand: two workers take indices from a
// jobs channel and store f(j) = 2j into a preallocated slice at that index; main then reads
// the results in order. ns per item.
func poolMap() {
	const workers = 2
	jobs := make(chan int, poolCap)
	results := make([]int, poolJobs+1)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				results[j] = j * 2
			}
		}()
	}
	for j := 1; j <= poolJobs; j++ {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	sum := 0
	for j := 1; j <= poolJobs; j++ {
		sum += results[j]
	}
	elapsed := time.Since(start)
	if want := poolJobs * (poolJobs + 1); sum != want {
		fail(fmt.Sprintf("poolmap2: sum %d, want %d", sum, want))
	}
	report("poolmap2", poolJobs, "ns_per_job", perOp(elapsed, poolJobs))
}

// blockingSleep makes one blocking system call: nanosleep(2) for blockingFor, called through
// the syscall package (a real system call, which time.Sleep is not: that parks the goroutine
// on a runtime timer). An interrupted call (EINTR, such as from the runtime's preemption
// signal) is resumed with the time left, as Rust's std::thread::sleep does.
func blockingSleep() {
	ts := syscall.NsecToTimespec(int64(blockingFor))
	for {
		var rem syscall.Timespec
		err := syscall.Nanosleep(&ts, &rem)
		if err == nil {
			return
		}
		if err != syscall.EINTR {
			fail("blocking: nanosleep: " + err.Error())
		}
		ts = rem
	}
}

// blocking: blockingN goroutines each make one blockingFor nanosleep system call while two
// other goroutines ping-pong blockingTrips values over two unbuffered channels. Main starts
// the sleepers first, then the ping-pong, so that the ping-pong runs while they block. Wall
// ms from before the first spawn until every sleeper and the ping-pong are done; ns per round
// trip of the ping-pong, timed by the pinging goroutine from its first send to its last
// receive; the pinging goroutine then closes ping, and the echo goroutine exits.
func blocking() {
	ping := make(chan int)
	pong := make(chan int)
	type tally struct {
		sum     int
		elapsed time.Duration
	}
	result := make(chan tally, 1)
	echoDone := make(chan struct{})
	var slept atomic.Int64
	var sleepers sync.WaitGroup
	start := time.Now()
	sleepers.Add(blockingN)
	for i := 0; i < blockingN; i++ {
		go func() {
			defer sleepers.Done()
			blockingSleep()
			slept.Add(1)
		}()
	}
	go func() {
		for v := range ping {
			pong <- v
		}
		close(echoDone)
	}()
	go func() {
		t0 := time.Now()
		sum := 0
		for i := 0; i < blockingTrips; i++ {
			ping <- i
			sum += <-pong
		}
		elapsed := time.Since(t0)
		close(ping)
		result <- tally{sum, elapsed}
	}()
	sleepers.Wait()
	pp := <-result
	<-echoDone
	elapsed := time.Since(start)
	if want := blockingTrips * (blockingTrips - 1) / 2; pp.sum != want {
		fail(fmt.Sprintf("blocking: ping-pong sum %d, want %d", pp.sum, want))
	}
	if n := slept.Load(); n != blockingN {
		fail(fmt.Sprintf("blocking: %d sleepers finished, want %d", n, blockingN))
	}
	report("blocking", blockingN, "wall_ms", ms(elapsed))
	report("blocking", blockingTrips, "ns_per_roundtrip", perOp(pp.elapsed, blockingTrips))
}
