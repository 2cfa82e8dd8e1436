using System.Diagnostics;
using CacheGen.Redis.Tests.Infrastructure;
using CacheGen.Testing;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace CacheGen.Redis.Tests;

/// <summary>
/// What a frozen Redis (<c>kill -STOP</c>) costs the requests of an application under concurrent load, with the shipped
/// options: the figures the README's "Outages" section quotes. And the other side of the same bound: a healthy Redis
/// that is merely busy with large values never trips the breaker.
/// </summary>
[Collection(nameof(FreezeTests))]
public sealed class FreezeTests(ITestOutputHelper output)
{
    private const int Callers = 16;
    private const int Keys = 200;
    private static readonly TimeSpan BeforeFreeze = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Frozen = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);

    /// <summary>An instance with the shipped outage options (the fixture's instances wait longer for Redis).</summary>
    private static CacheInstance Instance(RedisServer server) =>
        CacheInstance.Create(server.Configuration + ",defaultDatabase=1", o =>
        {
            var shipped = new CacheGenOptions();
            o.RedisTimeout = shipped.RedisTimeout;
            o.RedisStallTimeout = shipped.RedisStallTimeout;
        });

    [Fact]
    public async Task Through_a_freeze_under_concurrent_load_no_request_waits_300_ms_and_the_p99_stays_within_50_ms()
    {
        using RedisServer server = RedisServer.Start();
        await using CacheInstance instance = Instance(server);
        for (int i = 0; i < Keys; i++)
            Assert.Equal(Expected(i), await Read(instance, i));
        await instance.SettledAsync();

        // Reads of stored entries, and every tenth call a new key: a miss whose guarded write goes to Redis too.
        int next = Keys;
        await using var load = Load.Start(Callers, async random =>
        {
            int i = random.Next(10) == 0 ? Interlocked.Increment(ref next) : random.Next(Keys);
            string value = await Read(instance, i);
            return value == Expected(i) ? null : $"key {i} read {value}";
        });
        await Task.Delay(BeforeFreeze);
        long frozenAt = Stopwatch.GetTimestamp();
        server.Freeze();
        try
        {
            await Task.Delay(Frozen);
            Assert.Equal(BreakerState.Open, instance.Hooks.RedisBreakerState);
            await load.StopAsync().WaitAsync(HangGuard);
        }
        finally
        {
            server.Thaw();
        }

        Assert.Empty(load.Problems);
        // The worst of the requests the freeze could delay (those running when it began, and all after); the p99 over
        // the run, the second before the freeze included. A machine busy enough to stop this process for a while (seen
        // as a late timer, which every caller waits on too) stops its requests as long: that is not the cache's
        // doing, so the bound is 300 ms plus the longest such stop during the freeze.
        double[] all = load.Latencies(endingAfter: 0);
        double[] frozen = load.Latencies(endingAfter: frozenAt);
        double worst = frozen.Max(), p99 = Percentile(all, 0.99), stopped = load.LongestStop(endingAfter: frozenAt);
        output.WriteLine($"{all.Length} requests, {frozen.Length} through the freeze: worst {worst:F0} ms (this process stopped for up to " +
            $"{stopped:F0} ms), p99 {p99:F1} ms, p99.9 {Percentile(all, 0.999):F1} ms; through the freeze p99 {Percentile(frozen, 0.99):F1} ms");
        Assert.True(worst <= 300 + stopped, $"the slowest request through the freeze took {worst:F0} ms (this process stopped for up to {stopped:F0} ms)");
        Assert.True(p99 <= 50, $"p99 {p99:F1} ms");
        Assert.Single(instance.Logs.WithEventId(CacheGenLogEvents.CircuitBreakerOpened));
    }

    [Fact]
    public async Task A_healthy_redis_serving_80_KB_values_to_concurrent_callers_never_trips_the_breaker()
    {
        const int Values = 20;
        using RedisServer server = RedisServer.Start();
        await using CacheInstance instance = Instance(server);
        using var metrics = new MetricsRecorder(instance.Hooks.Meter);
        string[] values = [.. Enumerable.Range(0, Values).Select(i => $"{i}:" + new string((char)('a' + i), 80 * 1024))];
        ValueTask<string> Large(int i) =>
            instance.Cache.GetOrCreateAsync("{posts}:large:" + i, i, (i, _) => ValueTask.FromResult(values[i]), Entry.NoLocal, Entry.Posts);
        // Stored, and the process warmed up (its first calls are slow on a busy machine): a pass with no miss.
        for (long misses = -1; misses != metrics.Sum("cachegen.misses");)
        {
            misses = metrics.Sum("cachegen.misses");
            for (int i = 0; i < Values; i++)
                await Large(i);
        }
        long storedMisses = metrics.Sum("cachegen.misses"), warmupErrors = metrics.Sum("cachegen.redis_errors");

        await using var load = Load.Start(Callers * 4, async random =>
        {
            int i = random.Next(Values);
            return await Large(i) == values[i] ? null : $"value {i} came back different";
        });
        await Task.Delay(TimeSpan.FromSeconds(3));
        await load.StopAsync().WaitAsync(HangGuard);

        Assert.Empty(load.Problems);
        double[] latencies = load.Latencies(endingAfter: 0);
        output.WriteLine($"{latencies.Length} reads of 80 KB: p50 {Percentile(latencies, 0.5):F1} ms, p99 {Percentile(latencies, 0.99):F1} ms, worst {latencies.Max():F0} ms");
        Assert.Empty(instance.Logs.WithEventId(CacheGenLogEvents.CircuitBreakerOpened));
        Assert.True(metrics.Sum("cachegen.redis_errors") == warmupErrors, string.Join("\n", instance.Logs.Lines.Where(l => l.Level >= LogLevel.Debug && l.Exception is not null)));
        // Every read was answered from Redis: none fell through to the data.
        Assert.Equal(storedMisses, metrics.Sum("cachegen.misses"));
    }

    private static string Expected(int i) => "value " + i;

    private static ValueTask<string> Read(CacheInstance instance, int i) =>
        instance.Cache.GetOrCreateAsync("{posts}:post:" + i, i, static async (i, token) =>
        {
            await Task.Delay(1, token);   // the data source: a query of about a millisecond
            return Expected(i);
        }, Entry.NoLocal, Entry.Posts);

    private static double Percentile(double[] sorted, double share) => sorted[Math.Max(0, (int)Math.Ceiling(share * sorted.Length) - 1)];

    /// <summary>
    /// Callers that each run <c>call</c> back to back until stopped, recording when each call ended and how long it
    /// took; a call returns null, or what was wrong with its answer.
    /// </summary>
    private sealed class Load : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<(long Ended, double Milliseconds)>[] _records;
        private readonly Task[] _callers;
        private readonly List<(long Ended, double Milliseconds)> _stops = [];
        private readonly Task _watch;

        private Load(int callers, Func<Random, Task<string?>> call)
        {
            _records = [.. Enumerable.Range(0, callers).Select(_ => new List<(long, double)>())];
            _callers = [.. Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
            {
                var random = new Random(c);
                while (!_stop.IsCancellationRequested)
                {
                    long started = Stopwatch.GetTimestamp();
                    string? problem = await call(random);
                    long ended = Stopwatch.GetTimestamp();
                    _records[c].Add((ended, Stopwatch.GetElapsedTime(started, ended).TotalMilliseconds));
                    if (problem is not null)
                        Problems.Add(problem);
                }
            }))];
            // How late a short timer fires: how long this process (its timers and thread pool) was not running.
            _watch = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    long started = Stopwatch.GetTimestamp();
                    await Task.Delay(5);
                    long ended = Stopwatch.GetTimestamp();
                    _stops.Add((ended, Stopwatch.GetElapsedTime(started, ended).TotalMilliseconds - 5));
                }
            });
        }

        public System.Collections.Concurrent.ConcurrentBag<string> Problems { get; } = [];

        public static Load Start(int callers, Func<Random, Task<string?>> call) => new(callers, call);

        public Task StopAsync()
        {
            _stop.Cancel();
            return Task.WhenAll([.. _callers, _watch]);
        }

        /// <summary>The longest time (ms) this process was not running, among the stops that ended after <paramref name="endingAfter"/>.</summary>
        public double LongestStop(long endingAfter) => _stops.Where(s => s.Ended > endingAfter).Select(s => s.Milliseconds).DefaultIfEmpty(0).Max();

        /// <summary>The latencies (ms) of the calls that ended after <paramref name="endingAfter"/> (a Stopwatch timestamp), sorted.</summary>
        public double[] Latencies(long endingAfter) =>
            [.. _records.SelectMany(r => r).Where(r => r.Ended > endingAfter).Select(r => r.Milliseconds).Order()];

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            _stop.Dispose();
        }
    }
}

/// <summary>
/// The freeze bounds are wall-time contracts: they run after the parallel tests, alone, so the rest of the suite's load
/// on a small machine does not starve the redis-server they measure (as the soak tests do).
/// </summary>
[CollectionDefinition(nameof(FreezeTests), DisableParallelization = true)]
public sealed class FreezeTestsCollection;
