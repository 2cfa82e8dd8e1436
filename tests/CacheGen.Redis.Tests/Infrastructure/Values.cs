using System.ComponentModel;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Redis.Tests.Infrastructure;

/// <summary>A value shaped like the sample's post.</summary>
public sealed record Post(int Id, string Title, string Content);

/// <summary>A mutable value: every caller must get its own instance.</summary>
public sealed class MutablePost
{
    public int Id { get; set; }

    public string Title { get; set; } = "";
}

/// <summary>An immutable value: callers may share one instance.</summary>
[ImmutableObject(true)]
public sealed record ImmutablePost(int Id, string Title);

public static class Entry
{
    public static readonly string[] Posts = ["posts"];
    public static readonly string[] Users = ["users"];

    /// <summary>Read and write Redis only, so a result says what Redis holds.</summary>
    public static readonly HybridCacheEntryOptions NoLocal = new() { Flags = HybridCacheEntryFlags.DisableLocalCache };

    public static string UniqueKey(string region = "posts") => $"{{{region}}}:post:{Guid.NewGuid():N}";

    /// <summary>The Redis key CacheGen uses for <paramref name="key"/> with KeyPrefix "example".</summary>
    public static string RedisKey(string key) => "example:1:" + key;

    /// <summary>
    /// How many entries a generated method holds in Redis under <paramref name="key"/>: one per shape of its value type,
    /// each named by the entry key, the byte 0xFE (Lua's '\254') and the shape's fingerprint.
    /// </summary>
    public static async Task<long> ShapedEntriesAsync(StackExchange.Redis.IDatabase database, string key) =>
        (long)await database.ScriptEvaluateAsync("return #redis.call('KEYS', ARGV[1] .. '\\254*')", values: [RedisKey(key)]);
}

/// <summary>A data call that counts how often it runs.</summary>
public sealed class CountingFactory<T>(Func<int, T> produce)
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public ValueTask<T> Invoke(CancellationToken cancellationToken) => new(produce(Interlocked.Increment(ref _calls)));

    public static implicit operator Func<CancellationToken, ValueTask<T>>(CountingFactory<T> factory) => factory.Invoke;
}
