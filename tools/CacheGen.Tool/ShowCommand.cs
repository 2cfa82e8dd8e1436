using System.Globalization;
using System.Text;
using CacheGen.Redis;
using StackExchange.Redis;

namespace CacheGen.Tool;

/// <summary>
/// <c>cachegen show KEY</c>: one entry's envelope, decoded with the runtime's own <see cref="Envelope"/>. KEY is the
/// cache key (<c>{posts}:post:1</c>) or the Redis key as <c>redis-cli --scan</c> prints it (with the prefix).
/// </summary>
internal static class ShowCommand
{
    public static async Task<int> RunAsync(Target target, ConnectionMultiplexer connection, string key, TextWriter output, TextWriter errors)
    {
        if (key.StartsWith(target.Keys.Prefix, StringComparison.Ordinal) && target.Keys.Prefix.Length > 0)
            key = key[target.Keys.Prefix.Length..];
        RedisKey redisKey = target.Keys.Entry(key);
        IDatabase database = connection.GetDatabase(target.Database);
        byte[]? value = await database.StringGetAsync(redisKey);
        if (value is null)
        {
            await errors.WriteLineAsync($"cachegen: no entry {key} (Redis key {redisKey}) on {target.Describe()}");
            return Cli.Failed;
        }
        TimeSpan? ttl = await database.KeyTimeToLiveAsync(redisKey);

        var lines = new List<(string Name, string Value)>
        {
            ("key", key),
            ("redis key", redisKey.ToString()),
            ("ttl", ttl is { } left ? Seconds(left) + " (Redis)" : "none"),
            ("size", $"{value.Length} bytes"),
        };
        EnvelopeKind kind = Envelope.Parse(value, out int tagCount, out int jsonOffset, out string? problem);
        switch (kind)
        {
            case EnvelopeKind.Tombstone:
                lines.Add(("kind", "tombstone: evicted by key; a fill that read the old entry cannot write over it"));
                lines.Add(("stamp", Hex(Envelope.StampOf(value))));
                break;
            case EnvelopeKind.Outdated:
                lines.Add(("kind", $"value in an older format (version {value[0]}): a miss, replaced by the next fill"));
                break;
            case EnvelopeKind.Newer:
                lines.Add(("kind", $"value in a newer format (version {value[0]}): a miss to this version, never overwritten by it"));
                break;
            case EnvelopeKind.Invalid:
                lines.Add(("kind", "not a CacheGen envelope: " + problem));
                break;
            default:
                lines.Add(("kind", $"value (format {Envelope.ValueVersion})"));
                lines.Add(("stamp", Hex(Envelope.StampOf(value))));
                lines.Add(("generations", await GenerationsAsync(target, connection, database, key, redisKey, value, tagCount)));
                long expiresAt = Envelope.GetExpiry(value, jsonOffset);
                lines.Add(("expires", Expiry(expiresAt, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())));
                lines.Add(("schema hash", Envelope.GetSchema(value, jsonOffset).ToString("x16", CultureInfo.InvariantCulture)));
                lines.Add(("key hash", Envelope.IsForKey(value, jsonOffset, key) ? "matches the key" : "MISMATCH: written for another key (read as corrupt)"));
                lines.Add(("checksum", Envelope.ChecksumMatches(value, jsonOffset) ? "ok" : "MISMATCH: damaged bytes (read as corrupt)"));
                lines.Add(("json", value.Length == jsonOffset ? "none (a null JsonPayload)" : $"{value.Length - jsonOffset} bytes"));
                break;
        }
        foreach ((string name, string text) in lines)
            await output.WriteLineAsync($"{name,-12} {text}");
        if (kind == EnvelopeKind.Value && value.Length > jsonOffset)
        {
            await output.WriteLineAsync();
            await output.WriteLineAsync(Encoding.UTF8.GetString(value, jsonOffset, value.Length - jsonOffset));
        }
        return Cli.Ok;
    }

    /// <summary>
    /// The generations the value was written under, beside the current ones: the first is its region's, the last the
    /// clear epoch's (tag names in between are not stored in the entry).
    /// </summary>
    private static async Task<string> GenerationsAsync(Target target, ConnectionMultiplexer connection, IDatabase database, string key, RedisKey redisKey,
        byte[] value, int tagCount)
    {
        var parts = new List<string>();
        string? region = CacheMetrics.RegionOfKey(key);
        for (int i = 0; i < tagCount; i++)
        {
            long written = Envelope.GetGeneration(value, i);
            RedisKey? counter = i == tagCount - 1 ? target.Keys.Clear(connection.HashSlot(redisKey))
                : i == 0 && region is not null ? target.Keys.Generation(region)
                : (RedisKey?)null;
            // Tag names are not kept in the entry (only their generations, in the order of the method's Tags).
            string name = i == tagCount - 1 ? "clear epoch" : i == 0 && region is not null ? "region " + region : $"tag #{i + 1} (name not stored)";
            string state = "";
            if (counter is { } generationKey)
            {
                RedisValue now = await database.StringGetAsync(generationKey);
                state = now.IsNull ? " (no current generation: evicted or expired)"
                    : now == written ? " (current)"
                    : $" (stale: now {now})";
            }
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {written}{state}"));
        }
        return string.Join("; ", parts);
    }

    /// <summary>
    /// When the entry stops being fresh. Past that, Redis still holds it only for a fail-safe method's stale window:
    /// served when the data call fails, a miss otherwise.
    /// </summary>
    internal static string Expiry(long expiresAt, long now)
    {
        if (expiresAt == 0)
            return "not recorded";
        string at = DateTimeOffset.FromUnixTimeMilliseconds(expiresAt).ToString("yyyy-MM-dd HH:mm:ss.fff 'UTC'", CultureInfo.InvariantCulture);
        TimeSpan left = TimeSpan.FromMilliseconds(expiresAt - now);
        return left > TimeSpan.Zero
            ? $"{at} (fresh for {Seconds(left)})"
            : $"{at} (STALE for {Seconds(-left)}: a miss, served only by a fail-safe method when its data call fails)";
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
