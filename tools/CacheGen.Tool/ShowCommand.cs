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
        IDatabase database = connection.GetDatabase(target.Database);
        // The entry under the key itself, then one per shape of its value type (a generated method's entries).
        var found = new List<(RedisKey RedisKey, string? Shape, byte[] Value)>();
        RedisKey plain = target.Keys.Entry(key);
        if (await database.StringGetAsync(plain) is { IsNull: false } plainValue)
            found.Add((plain, null, (byte[])plainValue!));
        foreach (IServer server in connection.GetServers().Where(s => !s.IsReplica && s.IsConnected))
        {
            await foreach (RedisKey shaped in server.KeysAsync(target.Database, target.Keys.ShapedEntryPattern(key), pageSize: 1000))
            {
                if (await database.StringGetAsync(shaped) is { IsNull: false } shapedValue)
                {
                    byte[] name = shaped!;
                    string shape = Encoding.UTF8.GetString(name, Array.IndexOf(name, RedisKeyLayout.ShapeMarker) + 1, name.Length - Array.IndexOf(name, RedisKeyLayout.ShapeMarker) - 1);
                    found.Add((shaped, shape, (byte[])shapedValue!));
                }
            }
        }
        if (found.Count == 0)
        {
            await errors.WriteLineAsync($"cachegen: no entry {key} (Redis key {plain}) on {target.Describe()}");
            return Cli.Failed;
        }
        for (int i = 0; i < found.Count; i++)
        {
            if (i > 0)
                await output.WriteLineAsync();
            await ShowAsync(target, connection, database, key, found[i].RedisKey, found[i].Shape, found[i].Value, output);
        }
        return Cli.Ok;
    }

    private static async Task ShowAsync(Target target, ConnectionMultiplexer connection, IDatabase database, string key, RedisKey redisKey, string? shape,
        byte[] value, TextWriter output)
    {
        TimeSpan? ttl = await database.KeyTimeToLiveAsync(redisKey);

        var lines = new List<(string Name, string Value)>
        {
            ("key", key),
            ("redis key", shape is null ? $"{redisKey}" : $"{target.Keys.Entry(key)} 0xFE {shape}"),
            ("shape", shape is null ? "none (stored under the key itself)" : shape + " (the fingerprint of the value type's shape)"),
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
                // What readers work on: the payload decompressed (the header is the same either way).
                byte[] readable = Readable.ToReadable(value);
                byte format = Envelope.GetFormat(value, jsonOffset);
                lines.Add(("kind", $"value (format {value[0]})"));
                lines.Add(("stamp", Hex(Envelope.StampOf(value))));
                lines.Add(("generations", await GenerationsAsync(target, connection, database, key, redisKey, value, tagCount, shape is not null)));
                long expiresAt = Envelope.GetExpiry(value, jsonOffset);
                lines.Add(("expires", Expiry(expiresAt, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())));
                lines.Add(("schema hash", Envelope.GetSchema(value, jsonOffset).ToString("x16", CultureInfo.InvariantCulture)));
                lines.Add(("key hash", Envelope.IsForKey(value, jsonOffset, key) ? "matches the key" : "MISMATCH: written for another key (read as corrupt)"));
                lines.Add(("checksum", PayloadFormat.IsCompressed(Envelope.GetFormat(readable, jsonOffset))
                    ? "MISMATCH: the compressed payload does not decompress (read as corrupt)"
                    : Envelope.ChecksumMatches(readable, jsonOffset) ? "ok" : "MISMATCH: damaged bytes (read as corrupt)"));
                lines.Add(("payload", Payload(value, readable, jsonOffset, format)));
                break;
        }
        foreach ((string name, string text) in lines)
            await output.WriteLineAsync($"{name,-12} {text}");
        if (kind == EnvelopeKind.Value && Readable.ToReadable(value) is { } body && body.Length > jsonOffset
            && !PayloadFormat.IsCompressed(Envelope.GetFormat(body, jsonOffset)) && (Envelope.GetFormat(body, jsonOffset) & PayloadFormat.SerializerMask) == PayloadFormat.Json)
        {
            await output.WriteLineAsync();
            await output.WriteLineAsync(Encoding.UTF8.GetString(body, jsonOffset, body.Length - jsonOffset));
        }
    }

    // Decompresses whatever the entry holds, as readers do (no size limit: the inspector only prints it).
    private static readonly PayloadCompression Readable = new(int.MaxValue, int.MaxValue);

    /// <summary>Who wrote the payload, its size before compression and, when compressed, its size in Redis.</summary>
    private static string Payload(byte[] stored, byte[] readable, int payloadOffset, byte format)
    {
        if (readable.Length == payloadOffset)
            return "none (a null JsonPayload)";
        string writer = (format & PayloadFormat.SerializerMask) == PayloadFormat.Json ? "JSON" : "the app's serializer (binary, not printed)";
        if (!PayloadFormat.IsCompressed(format))
            return $"{writer}, {readable.Length - payloadOffset} bytes, not compressed";
        string before = PayloadCompression.UncompressedLength(stored, payloadOffset) is { } length ? $"{length} bytes" : "unknown size";
        return $"{writer}, {before} before compression, {stored.Length - payloadOffset} bytes stored (LZ4)";
    }

    /// <summary>
    /// The generations the value was written under, beside the current ones: the first is its region's, the last the
    /// clear epoch's (tag names in between are not stored in the entry).
    /// </summary>
    private static async Task<string> GenerationsAsync(Target target, ConnectionMultiplexer connection, IDatabase database, string key, RedisKey redisKey,
        byte[] value, int tagCount, bool shaped)
    {
        var parts = new List<string>();
        string? region = CacheMetrics.RegionOfKey(key);
        for (int i = 0; i < tagCount; i++)
        {
            long written = Envelope.GetGeneration(value, i);
            // A shaped entry carries its key's generation just before the clear epoch.
            bool keyGeneration = shaped && i == tagCount - 2;
            RedisKey? counter = i == tagCount - 1 ? target.Keys.Clear(connection.HashSlot(redisKey))
                : keyGeneration ? target.Keys.KeyGeneration(key)
                : i == 0 && region is not null ? target.Keys.Generation(region)
                : (RedisKey?)null;
            // Tag names are not kept in the entry (only their generations, in the order of the method's Tags).
            string name = i == tagCount - 1 ? "clear epoch" : keyGeneration ? "key" : i == 0 && region is not null ? "region " + region : $"tag #{i + 1} (name not stored)";
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
