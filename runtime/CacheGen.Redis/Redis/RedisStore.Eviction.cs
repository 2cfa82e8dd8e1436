using System.Globalization;
using StackExchange.Redis;

namespace CacheGen.Redis;

// Evicting many keys or many tags at once: one script per hash slot, all sent together.
internal sealed partial class RedisStore
{
    /// <summary>
    /// Evicts every name in <paramref name="names"/> (entry keys, or tags other than <see cref="AllTags"/>) as
    /// <see cref="TombstoneAsync"/> or <see cref="EvictTagAsync"/> evicts one: one script per hash slot, sent together,
    /// so a single server gets one call and each node of a cluster one round trip (generated keys of one region share a
    /// slot; tags need not). All or nothing as far as the caller knows: if Redis does not confirm every slot, every
    /// name is pending (a replayed tombstone or generation bump that had already landed is only one more eviction).
    /// </summary>
    public async ValueTask<bool> EvictManyAsync(IReadOnlyList<string> names, bool isTag, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        switch (await ScriptsAsync().ConfigureAwait(false))
        {
            case Scripts.Refused:
                return true;
            case Scripts.Unreachable:
                DeferAll(names, isTag, lifetime, null);
                return false;
        }
        CallResult<bool> result;
        try
        {
            result = await _policy.RunAsync(CallKind.Evict, names[0], (Store: this, Names: names, IsTag: isTag, Lifetime: lifetime),
                static async (database, s, token) =>
                {
                    await s.Store.MakeEvictionsAsync(database, s.Names, s.IsTag, s.Lifetime, token).ConfigureAwait(false);
                    return true;
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            DeferAll(names, isTag, lifetime, null);
            throw;
        }
        if (result.Answered)
            return true;
        DeferAll(names, isTag, lifetime, result.Failure);
        return false;
    }

    private void DeferAll(IReadOnlyList<string> names, bool isTag, TimeSpan lifetime, Exception? failure)
    {
        foreach (string name in names)
            _recovery.Defer(isTag, name, lifetime, failure);
    }

    /// <summary>
    /// Many evictions in Redis, one script per hash slot. A key's tombstone goes with a move of the key's generation,
    /// which reaches the entries of every shape of the key (as <see cref="MakeEvictionAsync"/> does for one). Throws if
    /// one is not confirmed.
    /// </summary>
    private async Task MakeEvictionsAsync(IDatabase database, IReadOnlyList<string> names, bool isTag, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var calls = new List<Task>();
        if (isTag)
        {
            foreach (int[] members in BySlot(database, names, _keys.Generation))
                calls.Add(EvictGenerationsAsync(database, [.. members.Select(i => _keys.Generation(names[i]))], [.. members.Select(i => names[i])], cancellationToken));
        }
        else
        {
            var apart = new List<string>();
            foreach (int[] members in BySlot(database, names, _keys.Entry))
            {
                string[] slotNames = [.. members.Select(i => names[i])];
                // A key's generation is in its entry's slot when the key has a hash tag ({region}): one script for both.
                int slot = database.Multiplexer.HashSlot(_keys.Entry(slotNames[0]));
                if (slotNames.All(name => database.Multiplexer.HashSlot(_keys.KeyGeneration(name)) == slot))
                {
                    calls.Add(EvictKeysAsync(database, slotNames, lifetime, cancellationToken));
                    continue;
                }
                calls.Add(_policy.BoundedAsync(database.ScriptEvaluateAsync(LuaScripts.Tombstones, [.. slotNames.Select(name => _keys.Entry(name))],
                    [Envelope.CreateTombstone(), ToMilliseconds(lifetime)]), cancellationToken));
                apart.AddRange(slotNames);
            }
            foreach (int[] members in BySlot(database, apart, _keys.KeyGeneration))
                calls.Add(EvictGenerationsAsync(database, [.. members.Select(i => _keys.KeyGeneration(apart[i]))], [.. members.Select(i => apart[i])], cancellationToken));
        }
        await Task.WhenAll(calls).ConfigureAwait(false);
        if (!isTag)
        {
            foreach (string name in names)
                _recovery.KeyEvictionConfirmed(name);
        }
    }

    /// <summary>The indexes of <paramref name="names"/> grouped by the hash slot of the Redis key each maps to.</summary>
    private static IEnumerable<int[]> BySlot(IDatabase database, IReadOnlyList<string> names, Func<string, RedisKey> keyOf)
    {
        var slots = new Dictionary<int, List<int>>();
        for (int i = 0; i < names.Count; i++)
        {
            int slot = database.Multiplexer.HashSlot(keyOf(names[i]));
            if (!slots.TryGetValue(slot, out List<int>? members))
                slots[slot] = members = [];
            members.Add(i);
        }
        return slots.Values.Select(static members => members.ToArray());
    }

    /// <summary>Tombstones for keys of one slot and moves of their generations in the same slot, in one script (<see cref="LuaScripts.EvictKeys"/>).</summary>
    private async Task EvictKeysAsync(IDatabase database, string[] names, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        RedisKey[] generations = [.. names.Select(name => _keys.KeyGeneration(name))];
        RedisKey[] keys = [.. names.Select(name => _keys.Entry(name)), .. generations];
        RedisValue[] arguments = [Envelope.CreateTombstone(), ToMilliseconds(lifetime), .. EvictArguments(generations)];
        RedisResult result;
        try
        {
            result = await _policy.BoundedAsync(database.ScriptEvaluateAsync(LuaScripts.EvictKeys, keys, arguments), cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (RedisCallPolicy.IsWrongType(e))
        {
            // The tombstones are written first; a foreign value under a generation stopped the rest: each again alone, which repairs it.
            await Task.WhenAll(generations.Select((generation, i) => EvictGenerationAsync(database, generation, names[i], cancellationToken))).ConfigureAwait(false);
            return;
        }
        ObserveGenerations((RedisResult[])result!, generations, names);
    }

    /// <summary>Moves the generations of one slot on, as <see cref="EvictGenerationAsync"/> moves one, and remembers them.</summary>
    private async Task EvictGenerationsAsync(IDatabase database, RedisKey[] generations, string[] names, CancellationToken cancellationToken)
    {
        RedisResult result;
        try
        {
            result = await _policy.BoundedAsync(database.ScriptEvaluateAsync(LuaScripts.Evict, generations, EvictArguments(generations)),
                cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (RedisCallPolicy.IsWrongType(e))
        {
            // A foreign value under one of them stopped the script part way: each again alone, which repairs it.
            await Task.WhenAll(generations.Select((generation, i) => EvictGenerationAsync(database, generation, names[i], cancellationToken))).ConfigureAwait(false);
            return;
        }
        ObserveGenerations((RedisResult[])result!, generations, names);
    }

    /// <summary>Remembers each moved generation as a floor, and reports the ones found foreign (see <see cref="LuaScripts.Evict"/>'s result).</summary>
    private void ObserveGenerations(RedisResult[] items, RedisKey[] generations, string[] names)
    {
        for (int i = 0; i < generations.Length; i++)
        {
            _floors.Observe(generations[i], long.Parse((string)items[2 * i]!, NumberStyles.None, CultureInfo.InvariantCulture));
            if ((long)items[2 * i + 1] != 0)
                ReportForeignGeneration(names[i]);
        }
    }
}
