using System.Globalization;
using CacheGen.Redis;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace CacheGen.Tool;

/// <summary>
/// <c>cachegen evict NAME</c>: <c>RemoveByTagAsync(NAME)</c> on a CacheGen cache built from the app's own settings, so
/// it is the runtime's eviction (the generation moves on in Redis, and the backplane tells every instance to drop its
/// in-process copies), not a tool's imitation of it.
/// </summary>
internal static class EvictCommand
{
    public static async Task<int> RunAsync(Target target, ConnectionMultiplexer connection, string name, TextWriter output, TextWriter errors)
    {
        IDatabase database = connection.GetDatabase(target.Database);
        RedisKey generation = target.Keys.Generation(name);
        RedisValue before = await database.StringGetAsync(generation);

        // The first Redis call also waits for the connection: give it longer than an app's per-call bound.
        await using ServiceProvider services = Target.Services(target.Configuration,
            o => o.RedisTimeout = TimeSpan.FromTicks(Math.Max(o.RedisTimeout.Ticks, TimeSpan.FromSeconds(10).Ticks)));
        var cache = (RedisHybridCache)services.GetRequiredService<HybridCache>();
        await cache.RemoveByTagAsync(name);
        if (cache.Hooks.PendingEvictionCount > 0)
        {
            await errors.WriteLineAsync($"cachegen: Redis did not confirm the eviction of {name}; nothing was published");
            return Cli.Failed;
        }

        RedisValue after = await database.StringGetAsync(generation);
        await output.WriteLineAsync(name == RedisStore.AllTags
            ? "evicted every entry (the clear epoch moved on) and told the other instances"
            : string.Create(CultureInfo.InvariantCulture, $"evicted {name}: generation {(before.IsNull ? "(none)" : before.ToString())} -> {after}; told the other instances"));
        return Cli.Ok;
    }
}
