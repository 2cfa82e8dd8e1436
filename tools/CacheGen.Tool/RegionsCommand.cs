using System.Globalization;
using CacheGen.Redis;
using StackExchange.Redis;

namespace CacheGen.Tool;

/// <summary>
/// <c>cachegen regions</c>: walks the prefix with SCAN (never KEYS, so Redis keeps serving), then reads each entry's
/// first bytes and size in pipelined batches. An entry is current when its first generation (its region's, since
/// generated code tags an entry with its region first) is the region's generation now; stale entries wait for their TTL.
/// </summary>
internal static class RegionsCommand
{
    private const int Batch = 500;
    // Version, stamp, tag count and the first generation: the first 18 bytes of a value envelope.
    private const int HeadBytes = 18;
    private const string NoRegion = "(no region)";

    private sealed class Region
    {
        public long? Generation;
        public long Current;
        public long Stale;
        public long Tombstones;
        public long Bytes;
    }

    public static async Task<int> RunAsync(Target target, ConnectionMultiplexer connection, TextWriter output)
    {
        string prefix = target.Keys.Prefix;
        string generationPrefix = prefix + "#gen:{";
        var regions = new SortedDictionary<string, Region>(StringComparer.Ordinal);
        Region RegionNamed(string name) => regions.TryGetValue(name, out Region? r) ? r : regions[name] = new Region();
        var entries = new List<(RedisKey Key, string Region)>();
        var generations = new List<(RedisKey Key, string Region)>();
        long scanned = 0;

        foreach (IServer server in Target.Primaries(connection))
        {
            await foreach (RedisKey key in server.KeysAsync(target.Database, Target.StartsWith(prefix), pageSize: 1000))
            {
                scanned++;
                string name = key.ToString()!;
                string rest = name[prefix.Length..];
                if (name.StartsWith(generationPrefix, StringComparison.Ordinal) && name.EndsWith('}'))
                    generations.Add((key, name[generationPrefix.Length..^1]));
                else if (rest.StartsWith(RedisKeyLayout.InternalMarker) && !rest.StartsWith("##", StringComparison.Ordinal))
                    continue; // the clear epoch, leases
                else
                    entries.Add((key, CacheMetrics.RegionOfKey(rest.StartsWith("##", StringComparison.Ordinal) ? rest[1..] : rest) ?? NoRegion));
            }
        }

        IDatabase database = connection.GetDatabase(target.Database);
        foreach ((RedisKey key, string region) in generations)
        {
            if (long.TryParse((string?)await database.StringGetAsync(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out long generation))
                RegionNamed(region).Generation = generation;
        }
        foreach ((RedisKey Key, string Region)[] batch in entries.Chunk(Batch))
        {
            var reads = batch.Select(e => (Head: database.StringGetRangeAsync(e.Key, 0, HeadBytes - 1), Length: database.StringLengthAsync(e.Key))).ToArray();
            await Task.WhenAll(reads.SelectMany(r => new Task[] { r.Head, r.Length }));
            for (int i = 0; i < batch.Length; i++)
            {
                Region region = RegionNamed(batch[i].Region);
                byte[] head = (byte[])reads[i].Head.Result!;
                long length = reads[i].Length.Result;
                if (length == 0)
                    continue; // expired between the SCAN and the read
                region.Bytes += length;
                if (head.Length > 0 && head[0] == Envelope.TombstoneVersion)
                    region.Tombstones++;
                // Stale: written under an older generation of its region (evicted since), it waits for its TTL.
                else if (head.Length == HeadBytes && head[0] is Envelope.ValueVersion or Envelope.FormatlessValueVersion && head[9] > 0
                    && region.Generation is { } now && Envelope.GetGeneration(head, 0) != now)
                    region.Stale++;
                else
                    region.Current++;
            }
        }

        await output.WriteLineAsync($"{target.Describe()}, prefix \"{prefix}\": {scanned} keys scanned");
        await output.WriteLineAsync($"{"region",-16} {"generation",20} {"entries",8} {"stale",8} {"tombstones",10} {"bytes",12}");
        foreach ((string name, Region r) in regions)
        {
            string generation = r.Generation?.ToString(CultureInfo.InvariantCulture) ?? "-";
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{name,-16} {generation,20} {r.Current,8} {r.Stale,8} {r.Tombstones,10} {r.Bytes,12}"));
        }
        return Cli.Ok;
    }
}
