using Microsoft.EntityFrameworkCore;

namespace CacheGen.EntityFrameworkCore;

/// <summary>Connects a <see cref="DbContext"/> to CacheGen's eviction.</summary>
public static class CacheGenDbContextOptionsBuilderExtensions
{
    /// <summary>
    /// An <c>[InvalidatesCache]</c> call made while a transaction of this context is open
    /// (<c>Database.BeginTransaction</c>, <c>UseTransaction</c>) evicts at once and again after the commit, so a
    /// reader that filled the entry from the old row in between is corrected; after a rollback nothing runs again.
    /// </summary>
    /// <example><c>services.AddDbContext&lt;BlogContext&gt;(o =&gt; o.UseSqlite("Data Source=blog.db").AddCacheGenInvalidation());</c></example>
    public static DbContextOptionsBuilder AddCacheGenInvalidation(this DbContextOptionsBuilder optionsBuilder)
    {
        ArgumentNullException.ThrowIfNull(optionsBuilder);
        return optionsBuilder.AddInterceptors(CacheGenTransactionInterceptor.Instance);
    }

    /// <inheritdoc cref="AddCacheGenInvalidation(DbContextOptionsBuilder)"/>
    public static DbContextOptionsBuilder<TContext> AddCacheGenInvalidation<TContext>(this DbContextOptionsBuilder<TContext> optionsBuilder)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(optionsBuilder);
        return optionsBuilder.AddInterceptors(CacheGenTransactionInterceptor.Instance);
    }
}
