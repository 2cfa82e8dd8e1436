using StackExchange.Redis;

namespace CacheGen.Redis;

// A batch's fill leases: many taken or released at once, one script per hash slot, sent together.
internal sealed partial class RedisStore
{
    /// <summary>
    /// Tries to take the cross-instance fill lease of each of <paramref name="keys"/> under one token, as
    /// <see cref="TryAcquireLeaseAsync"/> takes one. Returns, per key, whether it was taken; null if Redis failed (the
    /// caller loads unprotected).
    /// </summary>
    public async ValueTask<bool[]?> TryAcquireLeasesAsync(IReadOnlyList<string> keys, string token, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        if (ScriptingRefused)
            return null;
        CallResult<bool[]> result = await _policy.RunAsync(CallKind.Write, keys[0], (Store: this, Keys: keys, Token: token, Lifetime: lifetime),
            static (database, s, _) => s.Store.LeasesPerSlotAsync(database, s.Keys, LuaScripts.AcquireLeases, [s.Token, ToMilliseconds(s.Lifetime)]),
            cancellationToken).ConfigureAwait(false);
        return result.Answered ? result.Value : null;
    }

    /// <summary>Releases the leases of <paramref name="keys"/> that are still ours; a failure leaves them to their TTL.</summary>
    public async ValueTask ReleaseLeasesAsync(IReadOnlyList<string> keys, string token) =>
        await _policy.RunAsync(CallKind.Write, keys[0], (Store: this, Keys: keys, Token: token),
            static (database, s, _) => s.Store.LeasesPerSlotAsync(database, s.Keys, LuaScripts.ReleaseLeases, [s.Token]),
            CancellationToken.None).ConfigureAwait(false);

    /// <summary>Runs <paramref name="script"/> over the lease keys of each hash slot; per key, whether its script's answer for it was 1.</summary>
    private async Task<bool[]> LeasesPerSlotAsync(IDatabase database, IReadOnlyList<string> keys, string script, RedisValue[] arguments)
    {
        IConnectionMultiplexer connection = database.Multiplexer;
        var slots = new Dictionary<int, List<int>>();
        var leases = new RedisKey[keys.Count];
        for (int i = 0; i < keys.Count; i++)
        {
            leases[i] = _keys.Lease(keys[i]);
            int slot = connection.HashSlot(leases[i]);
            if (!slots.TryGetValue(slot, out List<int>? members))
                slots[slot] = members = [];
            members.Add(i);
        }
        var calls = new List<(List<int> Members, Task<RedisResult> Answer)>(slots.Count);
        foreach (List<int> members in slots.Values)
            calls.Add((members, database.ScriptEvaluateAsync(script, [.. members.Select(i => leases[i])], arguments)));
        var taken = new bool[keys.Count];
        foreach ((List<int> members, Task<RedisResult> answer) in calls)
        {
            RedisResult result = await answer.ConfigureAwait(false);
            if (result.Resp2Type != ResultType.Array)
                continue;
            var items = (RedisResult[])result!;
            for (int j = 0; j < members.Count; j++)
                taken[members[j]] = (long)items[j] == 1;
        }
        return taken;
    }
}
