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
    /// <summary>Synchronous <see cref="HybridCache.GetOrCreateAsync{TState, T}(ReadOnlySpan{char}, TState, Func{TState, CancellationToken, ValueTask{T}}, HybridCacheEntryOptions?, IEnumerable{string}?, CancellationToken)"/>.</summary>
    public static T GetOrCreate<TState, T>(
        HybridCache cache,
        ReadOnlySpan<char> key,
        TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options,
        IEnumerable<string>? tags,
        CancellationToken cancellationToken)
    {
        if (TaskScheduler.Current != TaskScheduler.Default)
        {
            // A custom scheduler would also capture continuations: hop to the thread pool instead.
            string keyText = key.ToString();
            return Task.Run(() => cache.GetOrCreateAsync(keyText, state, factory, options, tags, cancellationToken).AsTask(), cancellationToken)
                .GetAwaiter().GetResult();
        }

        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        ValueTask<T> pending;
        try
        {
            pending = cache.GetOrCreateAsync(key, state, factory, options, tags, cancellationToken);
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
