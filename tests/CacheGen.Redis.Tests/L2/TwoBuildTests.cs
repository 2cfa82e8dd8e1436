extern alias v1;
extern alias v2;

using System.Text.RegularExpressions;
using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace CacheGen.Redis.Tests;

/// <summary>
/// A rolling deploy: two builds of one app share a Redis, and the cached type changed between them (Blog.Post gained
/// a property and had one renamed; tests/RollingDeploy). Both are compiled by the generator; only the fingerprint of
/// Post's shape tells their entries apart.
/// </summary>
public sealed class TwoBuildTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    // No in-process copies: every read is answered by Redis, so the builds meet there on every call.
    private CacheInstance Build() => CacheInstance.Create(redis.Configuration, o => o.LocalCacheExpiration = TimeSpan.Zero);

    /// <summary>Calls that wrote to Redis so far: scripts (the guarded write is one) and plain SETs.</summary>
    private long Writes()
    {
        string stats = redis.Cli("INFO", "commandstats");
        return new[] { "evalsha", "eval", "set" }.Sum(command =>
            Regex.Match(stats, $@"cmdstat_{command}:calls=(\d+)") is { Success: true } match ? long.Parse(match.Groups[1].Value) : 0);
    }

    [Fact]
    public async Task Two_builds_whose_cached_type_changed_share_one_redis_without_conflict()
    {
        await using CacheInstance before = Build(), after = Build();
        using var beforeMetrics = new MetricsRecorder(before.Hooks.Meter);
        using var afterMetrics = new MetricsRecorder(after.Hooks.Meter);
        var oldService = new v1::Blog.PostService(before.Cache);
        var newService = new v2::Blog.PostService(after.Cache);
        int id = Random.Shared.Next();

        async Task<(v1::Blog.Post Old, v2::Blog.Post New)> ReadBothAsync()
        {
            v1::Blog.Post old = await oldService.GetAsync(id);
            await before.SettledAsync();
            v2::Blog.Post @new = await newService.GetAsync(id);
            await after.SettledAsync();
            return (old, @new);
        }

        // Warm-up: each build reads its data once and stores its own shape.
        (v1::Blog.Post first, v2::Blog.Post second) = await ReadBothAsync();
        Assert.Equal((id, "read 1"), (first.Id, first.Title));
        Assert.Equal((id, "read 1", "ann"), (second.Id, second.Headline, second.Author));

        // Alternating reads after it are hits for both, each of its own shape, and write nothing: no loop.
        long writes = Writes();
        for (int i = 0; i < 20; i++)
        {
            (v1::Blog.Post old, v2::Blog.Post @new) = await ReadBothAsync();
            Assert.Equal("read 1", old.Title);
            Assert.Equal(("read 1", "ann"), (@new.Headline, @new.Author));
        }
        Assert.Equal((1, 1), (oldService.Reads, newService.Reads));
        Assert.Equal(writes, Writes());

        // Every eviction, from either build, clears both shapes; after it each build is cached again.
        var evictions = new (string Kind, Func<Task> Evict)[]
        {
            ("key, old build", () => oldService.EvictPostAsync(id)),
            ("key, new build", () => newService.EvictPostAsync(id)),
            ("tag, old build", () => oldService.EvictPostTagAsync(id)),
            ("tag, new build", () => newService.EvictPostTagAsync(id)),
            ("region, old build", () => oldService.EvictPostsAsync()),
            ("region, new build", () => newService.EvictPostsAsync()),
            ("\"*\", old build", () => before.Cache.RemoveByTagAsync("*").AsTask()),
            ("\"*\", new build", () => after.Cache.RemoveByTagAsync("*").AsTask()),
        };
        int reads = 1;
        foreach ((string kind, Func<Task> evict) in evictions)
        {
            await evict();
            reads++;
            (v1::Blog.Post old, v2::Blog.Post @new) = await ReadBothAsync();
            Assert.True(old.Title == $"read {reads}" && @new.Headline == $"read {reads}",
                $"{kind}: the builds read '{old.Title}' and '{@new.Headline}', expected both to read the data again");
            (old, @new) = await ReadBothAsync();
            Assert.True(oldService.Reads == reads && newService.Reads == reads, $"{kind}: not cached again after the eviction");
        }

        // Neither build threw, and neither took the other's entry for a corrupt one.
        Assert.Empty(before.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
        Assert.Empty(after.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
        Assert.Equal(0, beforeMetrics.Sum("cachegen.corrupt_entries") + afterMetrics.Sum("cachegen.corrupt_entries"));
    }
}
