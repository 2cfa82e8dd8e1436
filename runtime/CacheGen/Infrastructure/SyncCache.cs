using System.ComponentModel;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Infrastructure;

/// <summary>
/// Runs <see cref="HybridCache"/> calls for synchronous generated methods. A hit that completes synchronously costs
/// no blocking; otherwise the calling thread blocks until the cache (and, on a miss, the core method) finishes.
/// The call starts with no <see cref="SynchronizationContext"/> (and on the default scheduler), so no continuation
/// can be queued to the thread that is blocked waiting for it: no deadlock in UI or legacy ASP.NET contexts.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class SyncCache
{
    /// <summary>Synchronous <see cref="HybridCache.GetOrCreateAsync{TState, T}(ReadOnlySpan{char}, TState, Func{TState, CancellationToken, ValueTask{T}}, HybridCacheEntryOptions, IEnumerable{string}, CancellationToken)"/>.</summary>
    [Obsolete("Generated code no longer calls this overload; it stays for assemblies built by an earlier CacheGen and goes in 1.0.")]
    public static T GetOrCreate<TState, T>(
        HybridCache cache,
        ReadOnlySpan<char> key,
        TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options,
        IEnumerable<string>? tags,
        CancellationToken cancellationToken) =>
        Run(key, (cache, state, factory, options, tags, cancellationToken),
            static (k, a) => a.cache.GetOrCreateAsync(k, a.state, a.factory, a.options, a.tags, a.cancellationToken));

    /// <summary>Synchronous <see cref="GeneratedCache.GetOrCreateAsync{TState, T}(HybridCache, CachedMethod, ReadOnlySpan{char}, TState, Func{TState, CancellationToken, ValueTask{T}}, Func{TState, string[]}, Func{T, bool}, CancellationToken)"/>.</summary>
    public static T GetOrCreate<TState, T>(
        HybridCache cache,
        CachedMethod method,
        ReadOnlySpan<char> key,
        TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory,
        Func<TState, string[]>? tags,
        Func<T, bool>? unless,
        CancellationToken cancellationToken) =>
        Run(key, (cache, method, state, factory, tags, unless, cancellationToken),
            static (k, a) => GeneratedCache.GetOrCreateAsync(a.cache, a.method, k, a.state, a.factory, a.tags, a.unless, a.cancellationToken));

    /// <summary>Synchronous <see cref="GeneratedCache.GetOrCreateAsync{TState, T}(HybridCache, CachedMethod, ReadOnlySpan{char}, TState, Func{TState, CancellationToken, ValueTask{T}}, Func{TState, string[]}, ResultRules{T}, CancellationToken)"/>.</summary>
    public static T GetOrCreate<TState, T>(
        HybridCache cache,
        CachedMethod method,
        ReadOnlySpan<char> key,
        TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory,
        Func<TState, string[]>? tags,
        ResultRules<T> rules,
        CancellationToken cancellationToken) =>
        Run(key, (cache, method, state, factory, tags, rules, cancellationToken),
            static (k, a) => GeneratedCache.GetOrCreateAsync(a.cache, a.method, k, a.state, a.factory, a.tags, a.rules, a.cancellationToken));

    /// <summary>Synchronous <see cref="GeneratedCache.CompleteUpdateAsync{T}(HybridCache, CacheUpdate, T, ResultRules{T})"/>.</summary>
    public static void CompleteUpdate<T>(HybridCache cache, CacheUpdate update, T value, ResultRules<T> rules) =>
        Wait(static s => GeneratedCache.CompleteUpdateAsync(s.cache, s.update, s.value, s.rules), (cache, update, value, rules));

    /// <summary>Synchronous <see cref="GeneratedCache.BeginUpdateAsync"/>.</summary>
    public static CacheUpdate BeginUpdate(HybridCache cache, CachedMethod method, string key, string[] tags) =>
        Result(static s => GeneratedCache.BeginUpdateAsync(s.cache, s.method, s.key, s.tags), (cache, method, key, tags));

    /// <summary>Synchronous <see cref="GeneratedCache.CompleteUpdateAsync{T}(HybridCache, CacheUpdate, T, Func{T, bool})"/>.</summary>
    public static void CompleteUpdate<T>(HybridCache cache, CacheUpdate update, T value, Func<T, bool>? unless) =>
        Wait(static s => GeneratedCache.CompleteUpdateAsync(s.cache, s.update, s.value, s.unless), (cache, update, value, unless));

    /// <summary>Synchronous <see cref="HybridCache.RemoveByTagAsync(string, CancellationToken)"/>.</summary>
    [Obsolete("Generated code no longer calls this overload; it stays for assemblies built by an earlier CacheGen and goes in 1.0.")]
    public static void RemoveByTag(HybridCache cache, string tag) =>
        Wait(static s => s.cache.RemoveByTagAsync(s.tag, CancellationToken.None), (cache, tag));

    /// <summary>Synchronous <see cref="HybridCache.RemoveByTagAsync(IEnumerable{string}, CancellationToken)"/>.</summary>
    [Obsolete("Generated code no longer calls this overload; it stays for assemblies built by an earlier CacheGen and goes in 1.0.")]
    public static void RemoveByTags(HybridCache cache, IEnumerable<string> tags) =>
        Wait(static s => s.cache.RemoveByTagAsync(s.tags, CancellationToken.None), (cache, tags));

    /// <summary>Synchronous <see cref="HybridCache.RemoveAsync(string, CancellationToken)"/>.</summary>
    [Obsolete("Generated code no longer calls this overload; it stays for assemblies built by an earlier CacheGen and goes in 1.0.")]
    public static void Remove(HybridCache cache, string key) =>
        Wait(static s => s.cache.RemoveAsync(s.key, CancellationToken.None), (cache, key));

    private static TResult Result<TState, TResult>(Func<TState, ValueTask<TResult>> operation, TState state) =>
        Run(default, (operation, state), static (_, a) => a.operation(a.state));

    private delegate ValueTask<TResult> KeyedCall<TArgs, TResult>(ReadOnlySpan<char> key, TArgs args);

    /// <summary>
    /// Runs <paramref name="call"/> to its end on the calling thread: started with no synchronization context, or on the
    /// thread pool under a custom scheduler (which would capture continuations too; the key is then copied, since a span
    /// cannot go there).
    /// </summary>
    private static TResult Run<TArgs, TResult>(ReadOnlySpan<char> key, TArgs args, KeyedCall<TArgs, TResult> call)
    {
        if (TaskScheduler.Current != TaskScheduler.Default)
        {
            string keyText = key.ToString();
            return Task.Run(() => call(keyText, args).AsTask()).GetAwaiter().GetResult();
        }

        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        ValueTask<TResult> pending;
        try
        {
            pending = call(key, args);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Runs an asynchronous cache operation to its end on the calling thread, the same way.</summary>
    internal static void Wait<TState>(Func<TState, ValueTask> operation, TState state)
    {
        if (TaskScheduler.Current != TaskScheduler.Default)
        {
            Task.Run(() => operation(state).AsTask()).GetAwaiter().GetResult();
            return;
        }

        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        ValueTask pending;
        try
        {
            pending = operation(state);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
        if (!pending.IsCompletedSuccessfully)
            pending.AsTask().GetAwaiter().GetResult();
    }
}
