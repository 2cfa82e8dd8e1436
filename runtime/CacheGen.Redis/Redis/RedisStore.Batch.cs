using StackExchange.Redis;

namespace CacheGen.Redis;

// The batch read: many entries and their generations in one MGET per hash slot (one on a single server).
internal sealed partial class RedisStore
{
    /// <summary>
    /// Reads many entries as <see cref="ReadAsync"/> reads one, each with the same checks: one <c>MGET</c> per hash slot
    /// (a single server has none: one <c>MGET</c> in all; generated keys of one region share a slot), with every
    /// generation key named once however many entries carry it. An entry whose generations MGET cannot vouch for
    /// (missing, foreign, behind what this instance has seen) is read again alone, through the read script, as a single
    /// read would be; those reads go out together.
    /// </summary>
    public async ValueTask<RedisRead[]> ReadManyAsync(IReadOnlyList<string> keys, IReadOnlyList<string[]> tags, CancellationToken cancellationToken)
    {
        var reads = new RedisRead[keys.Count];
        Array.Fill(reads, RedisRead.Failed);
        var wanted = new List<int>(keys.Count);
        for (int i = 0; i < keys.Count; i++)
        {
            if (!_recovery.MustSkip(keys[i], tags[i]))
                wanted.Add(i);
        }
        if (wanted.Count == 0)
            return reads;

        CallResult<List<int>> result = await _policy.RunAsync(CallKind.Read, keys[wanted[0]], (Store: this, Keys: keys, Tags: tags, Wanted: wanted, Reads: reads),
            static (database, s, _) => s.Store.ReadEntriesAsync(database, s.Keys, s.Tags, s.Wanted, s.Reads),
            cancellationToken).ConfigureAwait(false);
        if (!result.Answered)
        {
            // Whatever the MGETs did not answer is a miss that is not written back, as a single failed read.
            Array.Fill(reads, RedisRead.Failed);
            return reads;
        }

        List<int> alone = result.Value;
        if (alone.Count > 0)
        {
            var again = new Task<RedisRead>[alone.Count];
            for (int i = 0; i < alone.Count; i++)
                again[i] = ReadAsync(keys[alone[i]], tags[alone[i]], cancellationToken).AsTask();
            await Task.WhenAll(again).ConfigureAwait(false);
            for (int i = 0; i < alone.Count; i++)
                reads[alone[i]] = again[i].Result;
        }
        return reads;
    }

    /// <summary>Fills <paramref name="reads"/> from the MGETs; returns the entries to read again alone.</summary>
    private async Task<List<int>> ReadEntriesAsync(IDatabase database, IReadOnlyList<string> keys, IReadOnlyList<string[]> tags, List<int> wanted,
        RedisRead[] reads)
    {
        IConnectionMultiplexer connection = database.Multiplexer;
        var entryKeys = new RedisKey[keys.Count][];
        var slots = new Dictionary<int, SlotRead>();
        foreach (int i in wanted)
        {
            // Null: a cluster entry whose keys span slots, kept in-process only (as a single read keeps it).
            if (KeysFor(database, keys[i], tags[i]) is not { } itemKeys)
                continue;
            entryKeys[i] = itemKeys;
            int slot = connection.HashSlot(itemKeys[0]);
            if (!slots.TryGetValue(slot, out SlotRead? read))
                slots[slot] = read = new SlotRead();
            foreach (RedisKey itemKey in itemKeys)
                read.Add(itemKey);
        }

        var pending = new List<(SlotRead Read, Task<RedisValue[]> Values)>(slots.Count);
        foreach (SlotRead read in slots.Values)
            pending.Add((read, database.StringGetAsync([.. read.Keys])));
        foreach ((SlotRead read, Task<RedisValue[]> values) in pending)
            read.Values = await values.ConfigureAwait(false);

        var alone = new List<int>();
        foreach (int i in wanted)
        {
            if (entryKeys[i] is not { } itemKeys)
                continue;
            SlotRead read = slots[connection.HashSlot(itemKeys[0])];
            var values = new RedisValue[itemKeys.Length];
            for (int k = 0; k < itemKeys.Length; k++)
                values[k] = read.Values![read.Positions[itemKeys[k]]];
            if (CurrentGenerations(itemKeys, values) is { } current)
                reads[i] = new RedisRead { Succeeded = true, Value = Readable(values[0]), Generations = current, Keys = itemKeys };
            else
                alone.Add(i);
        }
        return alone;
    }

    /// <summary>The distinct keys one MGET reads in a hash slot, and where each is in its answer.</summary>
    private sealed class SlotRead
    {
        public List<RedisKey> Keys { get; } = [];

        public Dictionary<RedisKey, int> Positions { get; } = [];

        public RedisValue[]? Values { get; set; }

        public void Add(RedisKey key)
        {
            if (Positions.TryAdd(key, Keys.Count))
                Keys.Add(key);
        }
    }
}
