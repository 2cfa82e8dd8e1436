using System.Data.Common;
using System.Runtime.CompilerServices;
using CacheGen.Infrastructure;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace CacheGen.EntityFrameworkCore;

/// <summary>
/// Tells CacheGen about EF Core transactions, which <see cref="System.Transactions.Transaction.Current"/> does not
/// show: the evictions made while one is open run again once it has committed, and are forgotten if it rolls back.
/// Added by <see cref="CacheGenDbContextOptionsBuilderExtensions.AddCacheGenInvalidation"/>.
/// </summary>
internal sealed class CacheGenTransactionInterceptor : DbTransactionInterceptor
{
    public static readonly CacheGenTransactionInterceptor Instance = new();

    // Keyed by the ADO.NET transaction, which EF Core hands to every callback; weak, so nothing outlives it.
    private readonly ConditionalWeakTable<DbTransaction, TransactionEvictions> _open = [];

    private CacheGenTransactionInterceptor()
    {
    }

    public override DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result) =>
        Track(result);

    public override ValueTask<DbTransaction> TransactionStartedAsync(DbConnection connection, TransactionEndEventData eventData,
        DbTransaction result, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Track(result));

    public override DbTransaction TransactionUsed(DbConnection connection, TransactionEventData eventData, DbTransaction result) =>
        Track(result);

    public override ValueTask<DbTransaction> TransactionUsedAsync(DbConnection connection, TransactionEventData eventData,
        DbTransaction result, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Track(result));

    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData)
    {
        if (_open.TryGetValue(transaction, out TransactionEvictions? evictions))
            evictions.Commit();
    }

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData,
        CancellationToken cancellationToken = default) =>
        _open.TryGetValue(transaction, out TransactionEvictions? evictions) ? evictions.CommitAsync().AsTask() : Task.CompletedTask;

    public override void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Abandon(transaction);

    public override Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData,
        CancellationToken cancellationToken = default)
    {
        Abandon(transaction);
        return Task.CompletedTask;
    }

    public override void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => Abandon(transaction);

    public override Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData,
        CancellationToken cancellationToken = default)
    {
        Abandon(transaction);
        return Task.CompletedTask;
    }

    private DbTransaction Track(DbTransaction transaction)
    {
        // ADO.NET transactions drop their connection once they are committed, rolled back or disposed: one disposed
        // without either (no callback for that) stops counting as open then.
        _open.AddOrUpdate(transaction, TransactionEvictions.Begin(() => transaction.Connection is not null));
        return transaction;
    }

    private void Abandon(DbTransaction transaction)
    {
        if (_open.TryGetValue(transaction, out TransactionEvictions? evictions))
            evictions.Abandon();
    }
}
