using System.ComponentModel;

namespace CacheGen.Infrastructure;

/// <summary>
/// For data-access integrations, not applications: stands for one open database transaction that
/// <see cref="System.Transactions.Transaction.Current"/> does not show (an EF Core transaction, say). While it is open,
/// every eviction is recorded in it; <see cref="CommitAsync"/> runs them again once the commit is done.
/// </summary>
/// <remarks>
/// Open transactions are tracked process-wide, not per asynchronous flow: a transaction begun in an async method
/// (EF Core's <c>BeginTransactionAsync</c>) can set nothing that its caller's flow would see afterwards, so the
/// evictions of the writes inside it could never find it through an <see cref="AsyncLocal{T}"/>. The price is that an
/// eviction made while any such transaction is open is repeated at its commit too: one eviction more, never one less.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class TransactionEvictions
{
    private static readonly Lock s_gate = new();
    private static TransactionEvictions[] s_open = []; // replaced, never changed: readers take no lock

    private readonly Func<bool> _isStillOpen;
    private readonly HashSet<Eviction> _evictions = [];
    private bool _closed;

    private TransactionEvictions(Func<bool> isStillOpen) => _isStillOpen = isStillOpen;

    /// <summary>
    /// Starts recording for a transaction that has just begun. <paramref name="isStillOpen"/> tells whether it is still
    /// open; once it says no (the transaction was disposed without a commit this type heard of) its evictions are
    /// dropped, as after a rollback.
    /// </summary>
    public static TransactionEvictions Begin(Func<bool> isStillOpen)
    {
        ArgumentNullException.ThrowIfNull(isStillOpen);
        var transaction = new TransactionEvictions(isStillOpen);
        lock (s_gate)
            s_open = [.. s_open, transaction];
        return transaction;
    }

    /// <summary>After the transaction committed: runs every eviction recorded in it again, and stops recording.</summary>
    public async ValueTask CommitAsync()
    {
        foreach (Eviction eviction in Close())
            await eviction.RunAsync().ConfigureAwait(false);
    }

    /// <summary>Synchronous <see cref="CommitAsync"/>.</summary>
    public void Commit()
    {
        foreach (Eviction eviction in Close())
            eviction.Run();
    }

    /// <summary>After a rollback: stops recording; nothing runs again.</summary>
    public void Abandon() => Close();

    internal static bool AnyOpen
    {
        get
        {
            foreach (TransactionEvictions transaction in s_open)
            {
                if (transaction.IsOpen())
                    return true;
            }
            return false;
        }
    }

    internal static void RecordInOpen(Eviction eviction)
    {
        foreach (TransactionEvictions transaction in s_open)
        {
            if (!transaction.IsOpen())
                continue;
            lock (transaction._evictions)
            {
                if (!transaction._closed)
                    transaction._evictions.Add(eviction);
            }
        }
    }

    private bool IsOpen()
    {
        if (_isStillOpen())
            return true;
        Close();
        return false;
    }

    private Eviction[] Close()
    {
        Eviction[] recorded;
        lock (_evictions)
        {
            if (_closed)
                return [];
            _closed = true;
            recorded = [.. _evictions];
            _evictions.Clear();
        }
        lock (s_gate)
            s_open = Array.FindAll(s_open, open => open != this);
        return recorded;
    }
}
