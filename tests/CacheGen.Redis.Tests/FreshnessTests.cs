using System.Diagnostics;
using CacheGen.Infrastructure;
using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Freshness as generated code asks for it through IMethodCache, on a real redis-server and a fake clock: jitter
/// shortens each stored entry's lifetime at random within its share, in Redis (the key's TTL) and in-process alike;
/// TtlFrom gives each value its own lifetime, and none (zero or less) means it is not stored.
/// </summary>
public sealed class FreshnessTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(100);

    private static readonly CachedMethod Jittered = new("Rates.RateService.GetRatesAsync", "rates", new() { Expiration = Lifetime }) { JitterPercent = 20 };

    private static readonly CachedMethod Plain = new("Rates.RateService.GetPlainAsync", "rates", new() { Expiration = Lifetime });

    // No TtlSeconds: the value's own lifetime applies (a value "ttl:90" lives 90 s).
    private static readonly CachedMethod Tokens = new("Auth.TokenService.GetTokenAsync", "rates", null);

    private static readonly CachedMethod JitteredTokens = new("Auth.TokenService.GetJitteredAsync", "rates", null) { JitterPercent = 20 };

    private static TimeSpan LifetimeOf(string value) => TimeSpan.FromSeconds(int.Parse(value.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture));

    private static ValueTask<string> ReadToken(CacheInstance instance, CachedMethod method, string key, Func<string> source) =>
        Methods(instance).GetOrCreateAsync(method, key, (Source: source, Key: key), static (s, _) => new ValueTask<string>(s.Source()), static s => Tags(s.Key),
            new ResultRules<string>(null, static v => LifetimeOf(v)), default);

    private static FakeTimeProvider Clock() => new(DateTimeOffset.Parse("2026-11-30T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    private static string[] Tags(string key) => ["rates", "{rates}:" + key];

    private static IMethodCache Methods(CacheInstance instance) => (IMethodCache)instance.Cache;

    /// <summary>As generated code calls it: the state carries the data call and the key, the tags are built from it on a fill.</summary>
    private static ValueTask<string> Read(CacheInstance instance, CachedMethod method, string key, Func<string> source) =>
        Methods(instance).GetOrCreateAsync(method, key, (Source: source, Key: key), static (s, _) => new ValueTask<string>(s.Source()), static s => Tags(s.Key), null, default);

    private async Task<long[]> PttlsAsync(IEnumerable<string> keys)
    {
        var ttls = new List<long>();
        foreach (string key in keys)
        {
            TimeSpan? ttl = await redis.Database.KeyTimeToLiveAsync(Entry.RedisKey(key));
            Assert.NotNull(ttl);
            ttls.Add((long)ttl.Value.TotalMilliseconds);
        }
        return [.. ttls];
    }

    [Fact]
    public async Task Jitter_spreads_the_Redis_TTLs_of_entries_written_together_within_its_share()
    {
        await using CacheInstance instance = CacheInstance.Create(redis.Configuration, time: Clock());
        string[] jittered = [.. Enumerable.Range(0, 200).Select(_ => Entry.UniqueKey("rates"))];
        string[] plain = [.. Enumerable.Range(0, 20).Select(_ => Entry.UniqueKey("rates"))];
        var written = Stopwatch.StartNew();
        foreach (string key in jittered)
            Assert.Equal("v", await Read(instance, Jittered, key, () => "v"));
        foreach (string key in plain)
            Assert.Equal("v", await Read(instance, Plain, key, () => "v"));
        await instance.SettledAsync();

        long[] ttls = await PttlsAsync(jittered);
        long[] plainTtls = await PttlsAsync(plain);
        // Measured after both reads: Redis counts down in real time since the write.
        long elapsed = written.ElapsedMilliseconds + 1;
        // Up to 20% shorter than the method's 100 s, never longer.
        Assert.All(ttls, ttl => Assert.InRange(ttl, 80_000 - elapsed, 100_000));
        // Spread over the share, not one shortened lifetime for all: 200 draws from 80-100 s land far apart.
        Assert.True(ttls.Distinct().Count() > 100, $"{ttls.Distinct().Count()} distinct TTLs");
        Assert.True(ttls.Max() - ttls.Min() > 10_000, $"TTLs from {ttls.Min()} to {ttls.Max()} ms");
        Assert.Contains(ttls, ttl => ttl < 90_000);
        // A method without jitter keeps its whole lifetime.
        Assert.All(plainTtls, ttl => Assert.InRange(ttl, 100_000 - elapsed, 100_000));
    }

    [Fact]
    public async Task Jitter_shortens_in_process_lifetimes_by_the_same_share()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance instance = CacheInstance.Create(redis: null, time: clock);
        string[] keys = [.. Enumerable.Range(0, 100).Select(_ => Entry.UniqueKey("rates"))];
        foreach (string key in keys)
            await Read(instance, Jittered, key, () => "v1");

        async Task<int> HitsAsync()
        {
            int hits = 0;
            foreach (string key in keys)
                hits += await Read(instance, Jittered, key, () => "v2") == "v1" ? 1 : 0;
            return hits;
        }

        // Every entry lives at least 80 s: all still there just before.
        clock.Advance(TimeSpan.FromSeconds(79.9));
        Assert.Equal(100, await HitsAsync());
        // Between 80 and 100 s they expire one by one (the ones that expired were just filled again with v2).
        clock.Advance(TimeSpan.FromSeconds(10));
        int left = await HitsAsync();
        Assert.InRange(left, 1, 99);
        // None outlives the method's lifetime: every v1 is gone 100 s after it was stored.
        clock.Advance(TimeSpan.FromSeconds(10.2));
        foreach (string key in keys)
            Assert.NotEqual("v1", await Read(instance, Jittered, key, () => "v3"));
    }

    [Fact]
    public async Task A_Redis_entry_read_by_another_instance_expires_at_its_jittered_time()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance a = CacheInstance.Create(redis.Configuration, time: clock);
        await using CacheInstance b = CacheInstance.Create(redis.Configuration, time: clock);
        string[] keys = [.. Enumerable.Range(0, 60).Select(_ => Entry.UniqueKey("rates"))];
        foreach (string key in keys)
            await Read(a, Jittered, key, () => "v1");
        await a.SettledAsync();

        // The envelope's expiry is the jittered one: some of the entries have expired for B at 90 s, none at 79 s.
        clock.Advance(TimeSpan.FromSeconds(79));
        foreach (string key in keys)
            Assert.Equal("v1", await Read(b, Jittered, key, () => "v2"));
        clock.Advance(TimeSpan.FromSeconds(11));
        await using CacheInstance c = CacheInstance.Create(redis.Configuration, time: clock);
        int stillThere = 0;
        foreach (string key in keys)
            stillThere += await Read(c, Jittered, key, () => "v2") == "v1" ? 1 : 0;
        Assert.InRange(stillThere, 1, keys.Length - 1);
    }

    [Fact]
    public async Task A_write_through_stores_its_value_with_jitter()
    {
        await using CacheInstance instance = CacheInstance.Create(redis.Configuration, time: Clock());
        string[] keys = [.. Enumerable.Range(0, 100).Select(_ => Entry.UniqueKey("rates"))];
        var written = Stopwatch.StartNew();
        foreach (string key in keys)
        {
            using CacheUpdate update = await Methods(instance).BeginUpdateAsync(Jittered, key, Tags(key));
            await Methods(instance).CompleteUpdateAsync(update, "written", null);
        }
        foreach (string key in keys)
            Assert.Equal("written", await Read(instance, Jittered, key, () => "filled"));

        long[] ttls = await PttlsAsync(keys);
        long elapsed = written.ElapsedMilliseconds + 1;
        Assert.All(ttls, ttl => Assert.InRange(ttl, 80_000 - elapsed, 100_000));
        Assert.True(ttls.Max() - ttls.Min() > 5_000, $"TTLs from {ttls.Min()} to {ttls.Max()} ms");
    }

    [Fact]
    public async Task TtlFrom_sets_each_entrys_Redis_TTL_from_its_value()
    {
        await using CacheInstance instance = CacheInstance.Create(redis.Configuration, time: Clock());
        string short1 = Entry.UniqueKey("rates"), long1 = Entry.UniqueKey("rates");
        var written = Stopwatch.StartNew();
        Assert.Equal("ttl:30", await ReadToken(instance, Tokens, short1, () => "ttl:30"));
        Assert.Equal("ttl:3000", await ReadToken(instance, Tokens, long1, () => "ttl:3000"));
        await instance.SettledAsync();

        long[] ttls = await PttlsAsync([short1, long1]);
        long elapsed = written.ElapsedMilliseconds + 1;
        Assert.InRange(ttls[0], 30_000 - elapsed, 30_000);
        // Longer than the runtime's default expiration (300 s): the value's own lifetime, not a cap.
        Assert.InRange(ttls[1], 3_000_000 - elapsed, 3_000_000);
    }

    [Fact]
    public async Task TtlFrom_entries_expire_at_their_own_time_on_every_instance()
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance a = CacheInstance.Create(redis.Configuration, time: clock);
        string key = Entry.UniqueKey("rates");
        await ReadToken(a, Tokens, key, () => "ttl:30");
        await a.SettledAsync();

        clock.Advance(TimeSpan.FromSeconds(29));
        await using CacheInstance b = CacheInstance.Create(redis.Configuration, time: clock);
        Assert.Equal("ttl:30", await ReadToken(b, Tokens, key, () => "ttl:31"));   // from Redis
        Assert.Equal("ttl:30", await ReadToken(a, Tokens, key, () => "ttl:31"));
        clock.Advance(TimeSpan.FromSeconds(1.1));
        // Expired by its envelope for both, though Redis still holds the key (Redis counts real time).
        Assert.Equal("ttl:31", await ReadToken(b, Tokens, key, () => "ttl:31"));
        await b.SettledAsync();
        Assert.Equal("ttl:31", await ReadToken(a, Tokens, key, () => "ttl:32"));
    }

    [Theory]
    [InlineData("ttl:0")]
    [InlineData("ttl:-5")]
    public async Task A_value_whose_lifetime_is_zero_or_less_is_returned_and_not_stored(string value)
    {
        FakeTimeProvider clock = Clock();
        await using CacheInstance instance = CacheInstance.Create(redis.Configuration, time: clock);
        string key = Entry.UniqueKey("rates");
        int calls = 0;
        Assert.Equal(value, await ReadToken(instance, Tokens, key, () => { calls++; return value; }));
        await instance.SettledAsync();
        Assert.False(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));
        Assert.Equal(value, await ReadToken(instance, Tokens, key, () => { calls++; return value; }));
        Assert.Equal(2, calls);

        // Nor does a write-through store it: the entry it would replace goes.
        Assert.Equal("ttl:60", await ReadToken(instance, Tokens, key, () => "ttl:60"));
        await instance.SettledAsync();
        using (CacheUpdate update = await Methods(instance).BeginUpdateAsync(Tokens, key, Tags(key)))
            await Methods(instance).CompleteUpdateAsync(update, value, new ResultRules<string>(null, static v => LifetimeOf(v)));
        // (An eviction leaves a tombstone under the key, not the value: a miss here and on every instance.)
        Assert.Equal("ttl:61", await ReadToken(instance, Tokens, key, () => "ttl:61"));
        await using CacheInstance other = CacheInstance.Create(redis.Configuration, time: clock);
        await instance.SettledAsync();
        Assert.Equal("ttl:61", await ReadToken(other, Tokens, key, () => "ttl:62"));
    }

    [Fact]
    public async Task A_write_through_stores_its_value_for_the_values_own_lifetime()
    {
        await using CacheInstance instance = CacheInstance.Create(redis.Configuration, time: Clock());
        string key = Entry.UniqueKey("rates");
        await ReadToken(instance, Tokens, key, () => "ttl:30");
        await instance.SettledAsync();
        var written = Stopwatch.StartNew();
        using (CacheUpdate update = await Methods(instance).BeginUpdateAsync(Tokens, key, Tags(key)))
            await Methods(instance).CompleteUpdateAsync(update, "ttl:600", new ResultRules<string>(null, static v => LifetimeOf(v)));
        long ttl = (await PttlsAsync([key]))[0];
        Assert.InRange(ttl, 600_000 - written.ElapsedMilliseconds - 1, 600_000);
        Assert.Equal("ttl:600", await ReadToken(instance, Tokens, key, () => "filled"));
    }

    [Fact]
    public async Task TtlFrom_combines_with_jitter()
    {
        await using CacheInstance instance = CacheInstance.Create(redis.Configuration, time: Clock());
        string[] keys = [.. Enumerable.Range(0, 100).Select(_ => Entry.UniqueKey("rates"))];
        var written = Stopwatch.StartNew();
        foreach (string key in keys)
            await ReadToken(instance, JitteredTokens, key, () => "ttl:50");
        await instance.SettledAsync();
        long[] ttls = await PttlsAsync(keys);
        long elapsed = written.ElapsedMilliseconds + 1;
        Assert.All(ttls, ttl => Assert.InRange(ttl, 40_000 - elapsed, 50_000));
        Assert.True(ttls.Max() - ttls.Min() > 3_000, $"TTLs from {ttls.Min()} to {ttls.Max()} ms");
    }

    [Fact]
    public async Task An_in_process_copy_lives_no_longer_than_its_values_own_lifetime()
    {
        FakeTimeProvider clock = Clock();
        // The in-process lifetime (5 s by default) is longer than this value's 2 s.
        await using CacheInstance instance = CacheInstance.Create(redis.Configuration, time: clock);
        string key = Entry.UniqueKey("rates");
        await ReadToken(instance, Tokens, key, () => "ttl:2");
        clock.Advance(TimeSpan.FromSeconds(1.9));
        Assert.Equal("ttl:2", await ReadToken(instance, Tokens, key, () => "ttl:3"));
        clock.Advance(TimeSpan.FromSeconds(0.2));
        Assert.Equal("ttl:3", await ReadToken(instance, Tokens, key, () => "ttl:3"));
    }

    [Fact]
    public async Task With_StaleSeconds_the_stale_window_follows_the_values_own_expiry()
    {
        FakeTimeProvider clock = Clock();
        var staleTokens = new CachedMethod("Auth.TokenService.GetStaleAsync", "rates", null) { StaleFor = TimeSpan.FromSeconds(60) };
        await using CacheInstance a = CacheInstance.Create(redis.Configuration, time: clock);
        string key = Entry.UniqueKey("rates");
        var written = Stopwatch.StartNew();
        await Methods(a).GetOrCreateAsync(staleTokens, key, key, static (_, _) => new ValueTask<string>("ttl:30"), static k => Tags(k),
            new ResultRules<string>(null, static v => LifetimeOf(v)), default);
        await a.SettledAsync();
        // Redis keeps it for its own 30 s and the 60 s window after.
        Assert.InRange((await PttlsAsync([key]))[0], 90_000 - written.ElapsedMilliseconds - 1, 90_000);

        // 40 s on: expired 10 s ago, within the window: served when the data call fails, from Redis on another instance.
        clock.Advance(TimeSpan.FromSeconds(40));
        await using CacheInstance b = CacheInstance.Create(redis.Configuration, time: clock);
        Assert.Equal("ttl:30", await Methods(b).GetOrCreateAsync<string, string>(staleTokens, key, key,
            static (_, _) => throw new InvalidOperationException("the issuer is down"), static k => Tags(k),
            new ResultRules<string>(null, static v => LifetimeOf(v)), default));
        // 95 s on: past its expiry and the window: the failure is the caller's.
        clock.Advance(TimeSpan.FromSeconds(55));
        await using CacheInstance c = CacheInstance.Create(redis.Configuration, time: clock);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Methods(c).GetOrCreateAsync<string, string>(staleTokens, key, key,
            static (_, _) => throw new InvalidOperationException("the issuer is down"), static k => Tags(k),
            new ResultRules<string>(null, static v => LifetimeOf(v)), default).AsTask());
    }
}
