using StackExchange.Redis;

namespace CacheGen.Redis;

/// <summary>What a read of one entry found.</summary>
internal readonly struct RedisRead
{
    /// <summary>False when Redis could not answer in time: a miss that must not be written back (no generations to guard with).</summary>
    public bool Succeeded { get; init; }

    /// <summary>The bytes under the entry key, or null when there were none.</summary>
    public byte[]? Value { get; init; }

    /// <summary>The current generation of each tag, in tag order.</summary>
    public long[] Generations { get; init; }

    /// <summary>The entry key and its generation keys as the read sent them (when it succeeded): the guarded write's KEYS.</summary>
    public RedisKey[]? Keys { get; init; }

    public static RedisRead Failed => new() { Generations = [] };
}
