using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using CacheGen.Redis;
using CacheGen.SampleApi;
using Xunit.Abstractions;

namespace CacheGen.Consistency.Tests;

/// <summary>
/// The stale-read checker. Two instances of the sample share one SQLite file and one Redis; readers and writers hammer
/// a hot set of posts through both, and every request is recorded (instance, post, version, start and end time). Then
/// the history is checked: a read sent after a write returned on the same instance sees that version or newer (no
/// exceptions); on the other instance it does too once the propagation bound has passed.
/// Short by default (CI); set <c>CACHEGEN_CHECKER_SECONDS</c> (e.g. 300) for the long form.
/// </summary>
public sealed class ConsistencyCheckerTests(ITestOutputHelper output)
{
    private const int HotPosts = 5;
    private const int Readers = 8;
    private const int Writers = 2;

    /// <summary>The cross-instance bound asserted with the backplane working: generous against the measured p99 (see README).</summary>
    private static readonly TimeSpan PropagationBound = TimeSpan.FromSeconds(1);

    private static readonly int? LongFormSeconds =
        int.TryParse(Environment.GetEnvironmentVariable("CACHEGEN_CHECKER_SECONDS"), NumberStyles.None, CultureInfo.InvariantCulture, out int s) && s > 0 ? s : null;

    private static TimeSpan Duration => TimeSpan.FromSeconds(LongFormSeconds ?? 3);

    // The short form also stops at these counts, so a fast machine does not turn CI into a load test.
    private static int MaxReads => LongFormSeconds is null ? 40_000 : int.MaxValue;

    private static int MaxWrites => LongFormSeconds is null ? 1_500 : int.MaxValue;

    [Fact]
    public async Task Reads_see_every_write_on_the_same_instance_at_once_and_on_the_other_within_the_propagation_bound()
    {
        await using TwoInstances instances = await TwoInstances.StartAsync(posts: 20, o => o.LocalCacheExpiration = TimeSpan.FromSeconds(5));

        (Analysis analysis, long _) = await RunAsync(instances, PropagationBound, writePause: (2, 12));

        output.WriteLine("backplane on: " + analysis.Summary());
        AssertNone(analysis.SameInstance);
        AssertNone(analysis.PastBound);
        Assert.True(analysis.Reads > 100 && analysis.Writes > 10, analysis.Summary());
    }

    [Fact]
    public async Task With_a_tenth_of_backplane_messages_dropped_staleness_stays_under_the_L1_lifetime()
    {
        TimeSpan localLifetime = TimeSpan.FromSeconds(1);
        int received = 0;
        int dropped = 0;
        await using TwoInstances instances = await TwoInstances.StartAsync(posts: 20, o => o.LocalCacheExpiration = localLifetime,
            // Every tenth message (the 1st, 11th, ...) across both instances: 10%, and a short run is sure to lose some.
            dropIncoming: () =>
            {
                if (Interlocked.Increment(ref received) % 10 != 1)
                    return false;
                Interlocked.Increment(ref dropped);
                return true;
            });

        // Sparse writes: a dropped message (a post written through, the lists evicted) only matters until the L1 copy expires.
        (Analysis analysis, long _) = await RunAsync(instances, localLifetime, writePause: (50, 600));

        output.WriteLine($"10% dropped ({dropped} of {received} messages), L1 lifetime {localLifetime.TotalMilliseconds:0} ms: " + analysis.Summary());
        Assert.True(dropped > 0, $"no message was dropped ({received} received)");
        AssertNone(analysis.SameInstance);
        AssertNone(analysis.PastBound);
    }

    [Fact]
    public async Task Under_faults_reads_see_every_write_on_the_same_instance_at_once_and_on_the_other_within_the_L1_lifetime()
    {
        // Faults lose backplane messages, so the other instance's bound is the L1 lifetime, plus the Redis timeout a
        // fill begun before the write may take before it stores its (older) value in L1.
        TimeSpan localLifetime = TimeSpan.FromSeconds(1), redisTimeout = TimeSpan.FromMilliseconds(500);
        await using TwoInstances instances = await TwoInstances.StartAsync(posts: 20, o =>
        {
            o.LocalCacheExpiration = localLifetime;
            o.RedisTimeout = redisTimeout;
        });
        var injected = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        Task faults = InjectFaultsAsync(instances.Redis, injected, stop.Token);

        (Analysis analysis, long _) = await RunAsync(instances, localLifetime + redisTimeout, writePause: (20, 200), atLeast: (Reads: 500, Writes: 20));
        stop.Cancel();
        await faults;

        string[] kinds = [.. injected.Distinct().Order()];
        output.WriteLine($"faults injected: {injected.Count} ({string.Join(", ", kinds)}): " + analysis.Summary());
        Assert.Equal(["freeze", "kill and restart", "pub/sub connections cut"], kinds);
        AssertNone(analysis.SameInstance);
        AssertNone(analysis.PastBound);
        Assert.True(analysis.Reads >= 500 && analysis.Writes >= 20, analysis.Summary());
    }

    /// <summary>
    /// Until stopped, in turn: the backplane's pub/sub connections cut (<c>CLIENT KILL TYPE pubsub</c>), Redis frozen
    /// (SIGSTOP) for 300 ms, and Redis killed (SIGKILL) and restarted empty 200 ms later. One round takes about 1.5 s.
    /// </summary>
    private static async Task InjectFaultsAsync(CacheGen.Testing.RedisServer redis, ConcurrentQueue<string> injected, CancellationToken stop)
    {
        async Task<bool> Pause(int ms)
        {
            await Task.Delay(ms, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return !stop.IsCancellationRequested;
        }

        while (await Pause(300))
        {
            redis.Cli("CLIENT", "KILL", "TYPE", "pubsub");
            injected.Enqueue("pub/sub connections cut");
            if (!await Pause(300))
                break;
            redis.Freeze();
            injected.Enqueue("freeze");
            await Task.Delay(300);
            redis.Thaw();
            if (!await Pause(300))
                break;
            redis.Kill();
            injected.Enqueue("kill and restart");
            await Task.Delay(200);
            redis.Restart();
        }
    }

    [Fact]
    public void The_checker_reports_a_stale_read_with_its_minimal_history()
    {
        // The checker itself must catch what it is meant to: a synthetic history with one stale read on each rule.
        long s = Stopwatch.Frequency / 1000;   // ticks per ms
        Op[] history =
        [
            new(OpKind.Write, Instance: 0, PostId: 1, Version: 2, Start: 0, End: 10 * s),
            new(OpKind.Read, Instance: 0, PostId: 1, Version: 1, Start: 11 * s, End: 12 * s),        // same instance, after: stale
            new(OpKind.Read, Instance: 1, PostId: 1, Version: 1, Start: 12 * s, End: 13 * s),        // other instance, 2 ms: fine
            new(OpKind.Read, Instance: 1, PostId: 1, Version: 1, Start: 2000 * s, End: 2001 * s),    // other instance, 1990 ms: stale
            new(OpKind.Read, Instance: 1, PostId: 1, Version: 2, Start: 2002 * s, End: 2003 * s),
        ];

        Analysis analysis = Checker.Analyze(history, TimeSpan.FromSeconds(1), origin: 0);

        Violation same = Assert.Single(analysis.SameInstance);
        Assert.Equal(11 * s, same.Read.Start);
        Assert.Contains("write  on instance 0: version 2, sent at 0.000 ms, returned at 10.000 ms", same.ToString());
        Assert.Contains("read   on instance 0: saw version 1, sent at 11.000 ms", same.ToString());
        Violation late = Assert.Single(analysis.PastBound, v => v.Read.Instance == 1);
        Assert.Equal(2000 * s, late.Read.Start);
        Assert.Equal([2.0, 1990.0], analysis.StalenessMs);
    }

    private void AssertNone(IReadOnlyList<Violation> violations)
    {
        if (violations.Count == 0)
            return;
        foreach (Violation violation in violations.Take(5))
            output.WriteLine(violation.ToString());
        Assert.Fail($"{violations.Count} violation(s); the first:{Environment.NewLine}{violations[0]}");
    }

    /// <summary>
    /// Runs the readers and writers for <see cref="Duration"/>, and on until <paramref name="atLeast"/> reads and writes
    /// were sent (a minute at most: faults on a loaded machine can slow every request), then checks the history.
    /// </summary>
    private static async Task<(Analysis, long Origin)> RunAsync(TwoInstances instances, TimeSpan bound, (int Min, int Max) writePause,
        (int Reads, int Writes) atLeast = default)
    {
        var history = new ConcurrentQueue<Op>();
        long origin = Stopwatch.GetTimestamp();
        using var stop = new CancellationTokenSource(Duration);
        using var hardStop = new CancellationTokenSource(Duration + TimeSpan.FromMinutes(1));
        int reads = 0;
        int writes = 0;
        bool Going(ref int count, int minimum) =>
            !hardStop.IsCancellationRequested && (!stop.IsCancellationRequested || Volatile.Read(ref count) < minimum);

        async Task ReadLoop(int seed)
        {
            var random = new Random(seed);
            while (Going(ref reads, atLeast.Reads) && Interlocked.Increment(ref reads) <= MaxReads)
            {
                int instance = random.Next(2);
                int id = 1 + random.Next(HotPosts);
                long start = Stopwatch.GetTimestamp();
                Post? post = await instances.Clients[instance].GetFromJsonAsync<Post>($"/posts/{id}");
                long end = Stopwatch.GetTimestamp();
                history.Enqueue(new Op(OpKind.Read, instance, id, post!.Version, start, end));
            }
        }

        async Task WriteLoop(int seed)
        {
            var random = new Random(seed);
            while (Going(ref writes, atLeast.Writes) && Interlocked.Increment(ref writes) <= MaxWrites)
            {
                int instance = random.Next(2);
                int id = 1 + random.Next(HotPosts);
                long start = Stopwatch.GetTimestamp();
                using HttpResponseMessage response = await instances.Clients[instance].PutAsJsonAsync($"/posts/{id}",
                    new PostInput("Edited " + start.ToString(CultureInfo.InvariantCulture), "by the checker"));
                response.EnsureSuccessStatusCode();
                Post post = (await response.Content.ReadFromJsonAsync<Post>())!;
                long end = Stopwatch.GetTimestamp();
                history.Enqueue(new Op(OpKind.Write, instance, id, post.Version, start, end));
                // Leave the caches time to fill between writes, so reads hit L1 and L2 rather than only the database.
                await Task.Delay(random.Next(writePause.Min, writePause.Max));
            }
        }

        Task[] loops =
        [
            .. Enumerable.Range(0, Readers).Select(i => Task.Run(() => ReadLoop(i))),
            .. Enumerable.Range(0, Writers).Select(i => Task.Run(() => WriteLoop(1000 + i))),
        ];
        // Hang guard only: the loops end with the duration.
        await Task.WhenAll(loops).WaitAsync(Duration + TimeSpan.FromMinutes(3));
        return (Checker.Analyze([.. history], bound, origin), origin);
    }
}
