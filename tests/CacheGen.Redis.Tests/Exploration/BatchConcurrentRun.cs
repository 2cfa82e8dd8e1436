using CacheGen.Infrastructure;
using CacheGen.Redis.Tests.Infrastructure;
using CsCheck;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Redis.Tests.Exploration;

/// <summary>
/// One operation of a worker in a batch run: a single read of key <see cref="Keys"/>[0], a batch read of all of
/// <see cref="Keys"/>, an eviction of a key or a tag, or a SetAsync. Reads' data calls yield <see cref="Work"/> times,
/// fail if <see cref="Fails"/>, and their callers give up after <see cref="GiveUpAfter"/> yields (-1: never).
/// </summary>
public sealed record BatchOperation(BatchStep Kind, int[] Keys, int Work = 0, int GiveUpAfter = -1, bool Fails = false)
{
    public override string ToString() => Kind switch
    {
        BatchStep.Get => $"Get(k{Keys[0]}, work {Work}{Options()})",
        BatchStep.GetMany => $"GetMany({string.Join("+", Keys.Select(k => "k" + k))}, work {Work}{Options()})",
        BatchStep.Remove => $"Remove(k{Keys[0]})",
        BatchStep.RemoveMany => $"RemoveMany({string.Join("+", Keys.Select(k => "k" + k))})",
        BatchStep.RemoveTags => $"RemoveTags({string.Join("+", Keys.Select(t => Scenario.TagNames[t]))})",
        BatchStep.Set => $"Set(k{Keys[0]})",
        _ => $"RemoveTag({Scenario.TagNames[Keys[0]]})",
    };

    private string Options() => (GiveUpAfter >= 0 ? $", gives up after {GiveUpAfter}" : "") + (Fails ? ", its source fails" : "");
}

public enum BatchStep
{
    Get,
    GetMany,
    Remove,
    Set,
    RemoveTag,
    RemoveMany,
    RemoveTags,
}

/// <summary>
/// Workers run single reads, batch reads, evictions and sets of a few keys on one instance at once; the interleavings
/// are the thread pool's. <see cref="FillHistory"/> judges the outcome: no read (single, or an id of a batch) that begins
/// after an eviction returned gets a value whose data call began before that eviction did, and no caller fails unless
/// it gave up or its source failed.
/// </summary>
internal sealed class BatchConcurrentRun
{
    private static readonly Gen<int> Key = Gen.Int[0, Scenario.Keys - 1];

    private static readonly Gen<BatchOperation> Operations = Gen.Frequency<BatchOperation>(
        (4, Gen.Select(Key, Gen.Int[0, 3], Gen.Int[-3, 3], Gen.Int[0, 3],
            (key, work, giveUp, fails) => new BatchOperation(BatchStep.Get, [key], work, Math.Max(giveUp, -1), fails == 0))),
        (5, Gen.Select(Gen.Int[1, 3], Gen.Int[0, 3], Gen.Int[-3, 3], Gen.Int[0, 3],
            (which, work, giveUp, fails) => new BatchOperation(BatchStep.GetMany, which switch { 1 => [0], 2 => [1], _ => [0, 1] }, work, Math.Max(giveUp, -1), fails == 0))),
        (2, Key.Select(k => new BatchOperation(BatchStep.Remove, [k]))),
        (1, Key.Select(k => new BatchOperation(BatchStep.Set, [k]))),
        (1, Gen.Int[0, 2].Select(t => new BatchOperation(BatchStep.RemoveTag, [t]))),
        // Evictions of many names at once (one Redis call, one message): every key, or two tags.
        (1, Gen.Const(new BatchOperation(BatchStep.RemoveMany, [.. Enumerable.Range(0, Scenario.Keys)]))),
        (1, Gen.Int[0, 2].Select(t => new BatchOperation(BatchStep.RemoveTags, [t, (t + 1) % Scenario.TagNames.Length]))));

    /// <summary>Three workers with up to 10 operations each.</summary>
    public static readonly Gen<BatchOperation[][]> Workloads = Operations.Array[1, 10].Array[3];

    // Entries expire within a run, and a failing source may be answered with an expired value (fail-safe), which must
    // still never be one an eviction that returned had dropped.
    private static readonly CachedMethod Method = new("Exploration.Get", "x", new HybridCacheEntryOptions { Expiration = TimeSpan.FromMilliseconds(2) })
    {
        StaleFor = TimeSpan.FromMinutes(1),
    };

    public static string Print(BatchOperation[][] workers) =>
        string.Join(" || ", workers.Select(w => "[" + string.Join(", ", w.Select(o => o.ToString())) + "]"));

    private readonly HybridCache _cache;
    private readonly FillHistory _history = new();
    private readonly string _prefix = $"b{Guid.NewGuid():N}:";
    private int _named;

    public BatchConcurrentRun(CacheInstance instance) => _cache = instance.Cache;

    private string KeyName(int key) => $"{_prefix}k{key}";

    private string[] TagsOf(int key) => [.. Scenario.TagsOf(key).Select(t => _prefix + t)];

    private string[] TagsOf(string keyName) => TagsOf(keyName[^1] - '0');

    public async Task<List<string>> RunAsync(BatchOperation[][] workers)
    {
        await Task.WhenAll(workers.Select(w => Task.Run(() => WorkAsync(w)))).WaitAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        await ReadAsync(new BatchOperation(BatchStep.GetMany, [.. Enumerable.Range(0, Scenario.Keys)]), "final").ConfigureAwait(false);
        return [.. _history.Violations(TagsOf).Select(v => v.Replace(_prefix, ""))];
    }

    /// <summary>Removes the run's keys; nothing may be left in flight.</summary>
    public async Task<List<string>> CleanUpAsync(RedisHybridCache.TestHooks hooks)
    {
        for (int key = 0; key < Scenario.Keys; key++)
            await _cache.RemoveAsync(KeyName(key)).ConfigureAwait(false);
        return hooks.FlightCount == 0 ? [] : [$"{hooks.FlightCount} fill(s) still registered"];
    }

    private async Task WorkAsync(BatchOperation[] operations)
    {
        foreach (BatchOperation operation in operations)
        {
            string key = KeyName(operation.Keys[0]);
            switch (operation.Kind)
            {
                case BatchStep.Get or BatchStep.GetMany:
                    await ReadAsync(operation, "c" + Interlocked.Increment(ref _named)).ConfigureAwait(false);
                    break;
                case BatchStep.Remove:
                    await _history.EvictAsync($"RemoveAsync({key})", key, null, () => _cache.RemoveAsync(key).AsTask()).ConfigureAwait(false);
                    break;
                case BatchStep.Set:
                    string[] tags = TagsOf(operation.Keys[0]);
                    await _history.SetAsync(key, value => _cache.SetAsync(key, value, tags: tags).AsTask()).ConfigureAwait(false);
                    break;
                case BatchStep.RemoveMany:
                    string[] keys = [.. operation.Keys.Select(KeyName)];
                    await _history.EvictManyAsync($"RemoveAsync([{string.Join(", ", keys)}])", keys, [], () => _cache.RemoveAsync(keys).AsTask())
                        .ConfigureAwait(false);
                    break;
                case BatchStep.RemoveTags:
                    string[] many = [.. operation.Keys.Select(t => _prefix + Scenario.TagNames[t])];
                    await _history.EvictManyAsync($"RemoveByTagAsync([{string.Join(", ", many)}])", [], many, () => _cache.RemoveByTagAsync(many).AsTask())
                        .ConfigureAwait(false);
                    break;
                default:
                    string tag = _prefix + Scenario.TagNames[operation.Keys[0]];
                    await _history.EvictAsync($"RemoveByTagAsync({tag})", null, tag, () => _cache.RemoveByTagAsync(tag).AsTask()).ConfigureAwait(false);
                    break;
            }
        }
    }

    private async Task ReadAsync(BatchOperation operation, string name)
    {
        var caller = new Caller(this, operation);
        using var giveUp = new CancellationTokenSource();
        CancellationToken token = operation.GiveUpAfter >= 0 ? giveUp.Token : default;
        long start = _history.Now;
        Task<Dictionary<int, string>> call = operation.Kind == BatchStep.GetMany
            ? ((IMethodBatchCache)_cache).GetOrCreateManyAsync(Method, operation.Keys, caller,
                static (c, key) => c.Run.KeyName(key),
                static (c, missed, ct) => c.Run.FillManyAsync(c, missed, ct),
                static (c, key) => c.Run.TagsOf(key), null, token).AsTask()
            : SingleAsync(caller, token);
        if (operation.GiveUpAfter >= 0)
        {
            for (int i = 0; i < operation.GiveUpAfter; i++)
                await Task.Yield();
            caller.GaveUp = true;
            giveUp.Cancel();
        }
        try
        {
            foreach ((int key, string value) in await call.ConfigureAwait(false))
                _history.Read($"{name} (k{key})", KeyName(key), start, value);
        }
        catch (SourceDownException)
        {
            // The source failed and no expired value was at hand: the failure is the source's, nothing to judge.
        }
        catch (Exception e) when (!caller.GaveUp)
        {
            _history.Failed($"{name} ({operation}) failed though it never gave up: {e.GetType().Name}: {e.Message}");
        }
        catch (Exception)
        {
            // It gave up: however it ends is its own doing.
        }
    }

    private async Task<Dictionary<int, string>> SingleAsync(Caller caller, CancellationToken token)
    {
        int key = caller.Operation.Keys[0];
        string value = await ((IMethodCache)_cache).GetOrCreateAsync(Method, KeyName(key), caller,
            static async (c, ct) => (await c.Run.FillManyAsync(c, c.Operation.Keys, ct).ConfigureAwait(false)).Values.Single(),
            static c => c.Run.TagsOf(c.Operation.Keys[0]), null, token).ConfigureAwait(false);
        return new Dictionary<int, string> { [key] = value };
    }

    private async ValueTask<IReadOnlyDictionary<int, string>> FillManyAsync(Caller caller, IReadOnlyList<int> keys, CancellationToken token)
    {
        // Every value is made as the data call begins, as a query reads the rows it returns.
        var values = keys.ToDictionary(key => key, key => _history.NewFillValue(KeyName(key)));
        for (int i = 0; i < caller.Operation.Work; i++)
            await Task.Yield();
        if (caller.Operation.Fails)
            throw new SourceDownException();
        return values;
    }

    private sealed class SourceDownException() : Exception("the source is down");

    private sealed class Caller(BatchConcurrentRun run, BatchOperation operation)
    {
        public BatchConcurrentRun Run { get; } = run;

        public BatchOperation Operation { get; } = operation;

        public volatile bool GaveUp;
    }
}
