using System.Collections.Concurrent;
using StackExchange.Redis;

namespace CacheGen.Redis;

/// <summary>
/// Generation keys of releases before internal keys started with <c>#</c> (<c>{KeyPrefix}:{KeyVersion}:gen:{region}</c>)
/// were written without a TTL, and nothing reads them any more. The first time an instance reads an entry of a region
/// (the entry's first tag), it gives that region's old key, if there is one without a TTL, the default lifetime, in the
/// background: it then expires by itself, and an instance of such a release still running in a rolling deploy keeps
/// using it until then. One small script per region per instance, with the commands CacheGen's ACL line grants.
/// </summary>
internal sealed class LegacyGenerations(RedisKeyLayout keys, TimeSpan lifetime)
{
    /// <summary>Past this many regions an instance stops looking: regions are few; this only bounds the memory.</summary>
    private const int MaximumRegions = 1024;

    private readonly ConcurrentDictionary<string, bool> _touched = new(StringComparer.Ordinal);
    private readonly long _milliseconds = Math.Max(1, (long)Math.Ceiling(lifetime.TotalMilliseconds));

    /// <summary>On the first read of <paramref name="region"/> by this instance, expires its old generation key (fire and forget).</summary>
    public void TouchOnce(IDatabase database, string region)
    {
        // The clear epoch and a shape tag are CacheGen's own, never an old region.
        if (_touched.Count >= MaximumRegions || ReferenceEquals(region, RedisKeyLayout.ClearTag) || region[0] == '\0' || !_touched.TryAdd(region, true))
            return;
        database.ScriptEvaluate(LuaScripts.ExpireLegacyGeneration, [keys.LegacyGeneration(region)], [_milliseconds], CommandFlags.FireAndForget);
    }
}
