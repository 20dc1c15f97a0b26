// A Go program as the Go runtime runs one on Linux: goroutines spread over
// several threads (GOMAXPROCS 4), channels, select with timers, a mutex
// under contention, a garbage collector working under memory pressure,
// goroutine preemption (the runtime's SIGURG to a thread spinning in a
// loop with no calls), signals through os/signal, and large sparse
// mappings (the heap arenas). The runtime itself uses clone with
// CLONE_THREAD, futex, sigaltstack, rt_sigaction, mmap and, for timers
// and the network poller, epoll and nanosleep.
//
// Prints "ok NAME" / "FAIL NAME: ..." and "goroutines: N failed"; the same
// binary passes on Linux (tests/integration/go.test.ts runs it there too).
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var failures int

func check(name string, ok bool, got interface{}) {
	if ok {
		fmt.Printf("ok %s\n", name)
	} else {
		fmt.Printf("FAIL %s: got %v\n", name, got)
		failures++
	}
}

func fanOut() {
	const workers, items = 16, 1000
	jobs := make(chan int)
	results := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				results <- j * 2
			}
		}()
	}
	go func() {
		for i := 1; i <= items; i++ {
			jobs <- i
		}
		close(jobs)
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	sum := 0
	for r := range results {
		sum += r
	}
	check("channels-fan-out", sum == items*(items+1), sum)
}

func mutexCount() {
	var mu sync.Mutex
	var wg sync.WaitGroup
	count := 0
	for g := 0; g < 50; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				mu.Lock()
				count++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	check("mutex-count", count == 50000, count)
}

func timers() {
	start := time.Now()
	fired := 0
	timeout := time.After(300 * time.Millisecond)
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
loop:
	for {
		select {
		case <-ticker.C:
			fired++
		case <-timeout:
			break loop
		}
	}
	elapsed := time.Since(start)
	// A busy machine may drop ticks (a ticker does, for a slow reader), never add them.
	check("ticker-and-timeout", fired >= 1 && fired <= 16 && elapsed >= 300*time.Millisecond, fired)
	time.Sleep(10 * time.Millisecond)
	check("sleep", time.Since(start) >= 310*time.Millisecond, time.Since(start))
}

// Garbage: 200 MiB allocated in all, never more than a few MiB live,
// under a 24 MiB memory limit, so that the collector, not the machine's
// memory, keeps the heap small (a 64 MiB machine, with the collector's
// threads starved of the CPU, may otherwise run out first).
func garbage() {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(24 << 20))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var keep [][]byte
	for i := 0; i < 3200; i++ {
		b := make([]byte, 64<<10)
		b[len(b)-1] = byte(i)
		keep = append(keep, b)
		if len(keep) > 32 {
			keep = keep[1:]
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	cycles := after.NumGC - before.NumGC
	check("gc-under-pressure", cycles >= 2 && after.HeapAlloc < 64<<20, fmt.Sprintf("%d cycles, %d heap", cycles, after.HeapAlloc))
}

// A goroutine in a loop without calls is preempted by the runtime's signal,
// so another one on the only processor still gets to run.
func preemption() {
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	var stop int32
	done := make(chan bool)
	go func() {
		for atomic.LoadInt32(&stop) == 0 {
		}
		done <- true
	}()
	time.Sleep(50 * time.Millisecond) // the spinner has the processor now
	atomic.StoreInt32(&stop, 1)
	select {
	case <-done:
		check("async-preemption", true, nil)
	case <-time.After(5 * time.Second):
		check("async-preemption", false, "the spinner was never preempted")
	}
}

func signals() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1)
	defer signal.Stop(c)
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	select {
	case s := <-c:
		check("os-signal-notify", s == syscall.SIGUSR1, s)
	case <-time.After(5 * time.Second):
		check("os-signal-notify", false, "no signal")
	}
}

func threads() {
	// Goroutines blocked in system calls each hold a thread of their own.
	var wg sync.WaitGroup
	var fds [8][2]int
	for i := range fds {
		syscall.Pipe(fds[i][:])
		wg.Add(1)
		go func(fd int) {
			defer wg.Done()
			buf := make([]byte, 1)
			syscall.Read(fd, buf)
		}(fds[i][0])
	}
	time.Sleep(100 * time.Millisecond)
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", os.Getpid()))
	for i := range fds {
		syscall.Write(fds[i][1], []byte{1})
	}
	wg.Wait()
	check("threads-in-blocking-calls", err == nil && len(tasks) >= 9, len(tasks))
}

func main() {
	runtime.GOMAXPROCS(4)
	fanOut()
	mutexCount()
	timers()
	garbage()
	preemption()
	signals()
	threads()
	fmt.Printf("goroutines: %d failed\n", failures)
	if failures != 0 {
		os.Exit(1)
	}
}
