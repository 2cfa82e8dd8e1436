using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using CacheGen.SampleApi;
using CacheGen.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace CacheGen.SampleApi.Tests;

/// <summary>
/// The sample API under concurrent reads and writes (<see cref="LoadGenerator"/>) while its redis-server is killed
/// (<c>kill -9</c>) and restarted empty, frozen (<c>kill -STOP</c>, then <c>-CONT</c>), killed and restarted from its
/// append-only file (old entries and old region generations come back), and, in a second test, down while the app
/// starts. Throughout: no response >= 500, every body is a row the database held, no read older than a write that
/// completed before it started. Per outage: p99 latency within the cache timeout + the source's p99 + 50 ms (the
/// source's p99 is measured in the same run, on the same load, with caching bypassed), and the Redis hit ratio back
/// within 30 s of recovery.
/// </summary>
/// <remarks>
/// Short form (CI): 3 s outages. Long form: <c>CACHEGEN_FAULT_LONG=1</c> makes each outage 20 s, long enough for the
/// breaker to open, probe and close several times (about two more minutes).
/// </remarks>
public sealed class FaultTests(ITestOutputHelper output)
{
    private const int Posts = 100;
    private const double RecoveredHitRatio = 0.8;

    private static readonly bool LongForm = Environment.GetEnvironmentVariable("CACHEGEN_FAULT_LONG") == "1";
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(LongForm ? 20 : 3);
    private static readonly TimeSpan AfterRecovery = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan HitRatioDeadline = TimeSpan.FromSeconds(30);

    // The sample's defaults, spelled out because the latency bound is stated in terms of the timeout.
    private static readonly TimeSpan CacheTimeout = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Kill_freeze_and_restart_from_persistence_under_load()
    {
        using var directory = new TempDirectory();
        string database = await directory.AddPostsAsync(Posts);
        TimeSpan sourceP99 = await MeasureSourceP99Async(database);

        using RedisServer redis = RedisServer.Start("--appendonly", "yes", "--appendfsync", "always");
        await using FaultApp app = await FaultApp.StartAsync(database, redis.Configuration);
        await using LoadGenerator load = await LoadGenerator.StartAsync(app.Client, app.Store);
        await Task.Delay(TimeSpan.FromSeconds(2));
        await HitRatioRecoversAsync(app, load, Stopwatch.GetTimestamp(), "before any fault");

        await OutageAsync("kill -9, restart empty", app, load, sourceP99, redis.Kill, () =>
        {
            // Without its append-only file the server comes back empty.
            Directory.Delete(Path.Combine(redis.Directory, "appendonlydir"), recursive: true);
            redis.Restart();
        });
        await OutageAsync("kill -STOP, kill -CONT", app, load, sourceP99, redis.Freeze, redis.Thaw);
        await OutageAsync("kill -9, restart from the append-only file", app, load, sourceP99, redis.Kill, redis.Restart);

        await FinishAsync(app, load, outages: 3);
    }

    [Fact]
    public async Task The_app_starts_while_redis_is_down_and_caches_once_it_is_up()
    {
        using var directory = new TempDirectory();
        string database = await directory.AddPostsAsync(Posts);
        TimeSpan sourceP99 = await MeasureSourceP99Async(database);

        using RedisServer redis = RedisServer.Start();
        redis.Kill();
        long down = Stopwatch.GetTimestamp();
        await using FaultApp app = await FaultApp.StartAsync(database, redis.Configuration);
        await using LoadGenerator load = await LoadGenerator.StartAsync(app.Client, app.Store);
        await Task.Delay(Outage);

        long restarted = Stopwatch.GetTimestamp();
        redis.Restart();
        AssertLatency("redis down at startup", load, down, restarted, sourceP99);
        await Task.Delay(AfterRecovery);
        await HitRatioRecoversAsync(app, load, restarted, "after redis came up");

        await FinishAsync(app, load, outages: 1);
    }

    /// <summary>One fault under load: inject, hold, recover; then check the latency bound and the hit ratio.</summary>
    private async Task OutageAsync(string name, FaultApp app, LoadGenerator load, TimeSpan sourceP99, Action inject, Action recover)
    {
        load.WritesEnabled = true;
        long started = Stopwatch.GetTimestamp();
        output.WriteLine($"{name}: starts at {load.Elapsed.TotalSeconds:F1} s");
        inject();
        try
        {
            await Task.Delay(Outage);
        }
        finally
        {
            recover();
        }
        long recovered = Stopwatch.GetTimestamp();
        AssertLatency(name, load, started, recovered, sourceP99);
        // Writes go on after recovery: this is when evictions made during the outage are replayed, and when an old
        // entry brought back by Redis would be served if they were not.
        await Task.Delay(AfterRecovery);
        await HitRatioRecoversAsync(app, load, recovered, name);
        Assert.True(load.Problems.Count == 0, $"{name}:\n" + string.Join("\n", load.Problems.Take(10)));
    }

    private void AssertLatency(string name, LoadGenerator load, long from, long to, TimeSpan sourceP99)
    {
        (TimeSpan p99, int count) = load.P99(from, to);
        TimeSpan bound = CacheTimeout + sourceP99 + TimeSpan.FromMilliseconds(50);
        // The slowest read and write that ended during the outage: the figures the reliability page reports.
        string worst = string.Join(", ", load.Requests.Where(r => r.EndedAt >= from && r.EndedAt <= to).GroupBy(r => r.Kind).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"worst {g.Key} {g.Max(r => r.Latency).TotalMilliseconds:F0} ms"));
        output.WriteLine($"{name}: {count} requests, p99 {p99.TotalMilliseconds:F0} ms (bound {bound.TotalMilliseconds:F0} ms), {worst}");
        Assert.True(count > 0, $"{name}: no request during the outage");
        Assert.True(p99 <= bound, $"{name}: p99 {p99.TotalMilliseconds:F0} ms > cache timeout + source p99 + 50 ms = {bound.TotalMilliseconds:F0} ms");
    }

    /// <summary>
    /// With writes paused (each one evicts the whole region), polls the cache's own metrics once a second until the
    /// share of Redis lookups that hit, over the last second, is back to <see cref="RecoveredHitRatio"/>; fails if that
    /// takes more than 30 s from <paramref name="since"/>.
    /// </summary>
    private async Task HitRatioRecoversAsync(FaultApp app, LoadGenerator load, long since, string name)
    {
        load.WritesEnabled = false;
        try
        {
            (long hits, long misses) previous = app.Counters.Snapshot();
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                (long hits, long misses) now = app.Counters.Snapshot();
                long hits = now.hits - previous.hits;
                long lookups = hits + now.misses - previous.misses;
                previous = now;
                double ratio = lookups == 0 ? 0 : (double)hits / lookups;
                TimeSpan elapsed = Stopwatch.GetElapsedTime(since);
                if (lookups >= 5 && ratio >= RecoveredHitRatio)
                {
                    output.WriteLine($"{name}: Redis hit ratio {ratio:P0} ({lookups} lookups) {elapsed.TotalSeconds:F1} s after recovery");
                    return;
                }
                Assert.True(elapsed < HitRatioDeadline, $"{name}: Redis hit ratio {ratio:P0} ({lookups} lookups) still low {elapsed.TotalSeconds:F0} s after recovery");
            }
        }
        finally
        {
            load.WritesEnabled = true;
        }
    }

    private async Task FinishAsync(FaultApp app, LoadGenerator load, int outages)
    {
        await load.DisposeAsync();
        output.WriteLine($"{load.Requests.Count} requests, {load.Writes} writes, {load.StaleReads} stale reads");
        Assert.True(load.Problems.Count == 0, string.Join("\n", load.Problems.Take(10)));
        Assert.Equal(0, load.StaleReads);
        Assert.DoesNotContain(load.Requests, r => r.Status >= 500 || r.Status == 0);
        await load.AssertMatchesDatabaseAsync(app.Store);

        // One line per breaker state change, not one per request: thousands of requests, a handful of lines.
        string[] cacheLines = [.. app.Logs.Lines.Where(l => l.Contains("CacheGen.Redis:", StringComparison.Ordinal))];
        foreach (string line in cacheLines)
            output.WriteLine(line.Length > 300 ? line[..300] : line);
        // Each outage opens the breaker (a connection that flaps while coming back may open it once more), and every
        // opening is followed by exactly one closing.
        int opened = cacheLines.Count(l => l.Contains("stopped calling Redis", StringComparison.Ordinal));
        Assert.InRange(opened, outages, 2 * outages);
        Assert.Equal(opened, cacheLines.Count(l => l.Contains("answers again", StringComparison.Ordinal)));
        Assert.True(cacheLines.Length < 30 * outages, $"{cacheLines.Length} CacheGen log lines for {outages} outages");
    }

    /// <summary>
    /// The source's p99 under the same load, with caching bypassed: the same app with no in-process cache and a Redis
    /// address nobody listens on (its breaker opens during the warm-up, so every read runs the database query).
    /// </summary>
    private async Task<TimeSpan> MeasureSourceP99Async(string database)
    {
        await using FaultApp app = await FaultApp.StartAsync(database, $"127.0.0.1:{UnusedPort()}", localCache: false);
        await using LoadGenerator load = await LoadGenerator.StartAsync(app.Client, app.Store);
        await Task.Delay(TimeSpan.FromSeconds(2));
        long from = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(3));
        (TimeSpan p99, int count) = load.P99(from, Stopwatch.GetTimestamp());
        Assert.Empty(load.Problems);
        output.WriteLine($"uncached: {count} requests, source p99 {p99.TotalMilliseconds:F1} ms");
        return p99;
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A temp folder with the SQLite database that <c>addpost</c> fills.</summary>
    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cachegen-faults-" + Guid.NewGuid().ToString("N"));

        public async Task<string> AddPostsAsync(int count)
        {
            Directory.CreateDirectory(Path);
            string database = System.IO.Path.Combine(Path, "posts.db");
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            int exitCode = await SampleApp.RunAsync(["addpost", count.ToString(System.Globalization.CultureInfo.InvariantCulture), $"--Posts:Database={database}"], stdout, stderr);
            Assert.True(exitCode == 0, $"addpost failed: {stderr}");
            return database;
        }

        public void Dispose()
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>The sample app on real Kestrel, pointed at a database and a Redis, with its cache metrics and logs captured.</summary>
    private sealed class FaultApp : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private FaultApp(WebApplication app, LogCapture logs)
        {
            _app = app;
            Logs = logs;
            Client = new HttpClient { BaseAddress = new Uri(app.Urls.Single()), Timeout = TimeSpan.FromSeconds(30) };
            Counters = new CacheCounters(app.Services.GetRequiredService<IMeterFactory>());
        }

        public HttpClient Client { get; }

        public LogCapture Logs { get; }

        public CacheCounters Counters { get; }

        public PostStore Store => _app.Services.GetRequiredService<PostStore>();

        /// <param name="localCache">False: no in-process cache (with a dead Redis, every read runs the data call).</param>
        public static async Task<FaultApp> StartAsync(string database, string redis, bool localCache = true)
        {
            var logs = new LogCapture();
            WebApplication app = SampleApp.Build(
            [
                "--urls=http://127.0.0.1:0", "--environment=Production", $"--Posts:Database={database}", "--CacheGen:KeyPrefix=example",
                $"--CacheGen:Redis={redis},defaultDatabase=1",
                // A short in-process lifetime, so reads reach Redis (and show its hit ratio) within a second or so.
                $"--CacheGen:LocalCacheExpiration={(localCache ? "00:00:01" : "00:00:00")}",
            ], builder => builder.Logging.AddProvider(logs));
            try
            {
                await app.StartAsync();
                return new FaultApp(app, logs);
            }
            catch
            {
                await app.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            Counters.Dispose();
            Client.Dispose();
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    /// <summary>Redis hits (<c>cachegen.hits</c> with level l2) and misses from one app's own CacheGen meter.</summary>
    private sealed class CacheCounters : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _redisHits;
        private long _misses;

        public CacheCounters(IMeterFactory scope)
        {
            // Only this app's meter: other tests run apps in the same process at the same time.
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "CacheGen" && ReferenceEquals(instrument.Meter.Scope, scope)
                    && instrument.Name is "cachegen.hits" or "cachegen.misses")
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                if (instrument.Name == "cachegen.misses")
                {
                    Interlocked.Add(ref _misses, value);
                    return;
                }
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    if (tag.Key == "level" && (string?)tag.Value == "l2")
                        Interlocked.Add(ref _redisHits, value);
                }
            });
            _listener.Start();
        }

        public (long RedisHits, long Misses) Snapshot() => (Interlocked.Read(ref _redisHits), Interlocked.Read(ref _misses));

        public void Dispose() => _listener.Dispose();
    }
}
