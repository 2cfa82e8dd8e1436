using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CacheGen.Redis;

/// <summary>
/// Generation keys of releases before internal keys started with <c>#</c> (<c>{KeyPrefix}:{KeyVersion}:gen:{tag}</c>)
/// were written without a TTL, and nothing reads them any more: left alone, they would stay in Redis for good. Once
/// scripting is confirmed, one instance per day (a marker key, set if absent) scans for them on every primary and
/// gives each the default lifetime, so they expire by themselves; an instance of such a release still running in a
/// rolling deploy keeps working on them until then.
/// </summary>
internal static class LegacyGenerations
{
    /// <summary>How long one sweep keeps the others from sweeping again.</summary>
    private static readonly TimeSpan SweepInterval = TimeSpan.FromDays(1);

    public static async Task ExpireAsync(ConnectionMultiplexer connection, RedisKeyLayout keys, TimeSpan lifetime, ILogger logger)
    {
        IDatabase database = connection.GetDatabase();
        if (!await database.StringSetAsync(keys.Prefix + "#migrated:legacy-generations", "1", SweepInterval, When.NotExists).ConfigureAwait(false))
            return;
        string pattern = keys.LegacyGenerationPattern;
        long milliseconds = Math.Max(1, (long)Math.Ceiling(lifetime.TotalMilliseconds));
        int expired = 0;
        foreach (IServer server in connection.GetServers())
        {
            if (server.IsReplica || !server.IsConnected)
                continue;
            var pending = new List<Task<RedisResult>>();
            await foreach (RedisKey key in server.KeysAsync(database.Database, pattern, pageSize: 1000).ConfigureAwait(false))
            {
                pending.Add(database.ScriptEvaluateAsync(LuaScripts.ExpireLegacyGeneration, [key], [milliseconds]));
                if (pending.Count == 1000)
                    expired += await CountAsync(pending).ConfigureAwait(false);
            }
            expired += await CountAsync(pending).ConfigureAwait(false);
        }
        if (expired > 0)
            Log.LegacyGenerationsExpired(logger, expired, pattern, lifetime);
    }

    private static async Task<int> CountAsync(List<Task<RedisResult>> pending)
    {
        int count = 0;
        foreach (Task<RedisResult> script in pending)
            count += (int)await script.ConfigureAwait(false);
        pending.Clear();
        return count;
    }
}
