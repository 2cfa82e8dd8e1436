using System.Transactions;
using CacheGen.EntityFrameworkCore;
using CacheGen.Infrastructure;
using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Redis.Tests;

/// <summary>
/// A write inside a transaction evicts at once, a reader then fills the entry from the row the transaction has not
/// committed yet, and the commit must not leave that old row in the cache. Real generated code, a real SQLite file
/// (WAL, so the reader sees the committed row while the writer's is pending), real Redis.
/// </summary>
public sealed class TransactionEvictionTests(RedisFixture redis) : IClassFixture<RedisFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cachegen-tx-").FullName;

    [Fact]
    public async Task A_commit_of_an_EF_Core_transaction_evicts_what_a_reader_filled_from_the_old_row()
    {
        await using var shop = await Shop.CreateAsync(_directory, redis.Configuration);

        await using (ShopContext db = shop.NewContext())
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            await shop.Books.RenameAsync(db, 1, "new");
            Assert.True(Invalidation.InTransaction);
            Assert.Equal("old", (await shop.Books.GetAsync(1))!.Title); // the reader refilled the entry from the old row

            await transaction.CommitAsync();
        }

        Assert.False(Invalidation.InTransaction);
        Assert.Equal("new", (await shop.Books.GetAsync(1))!.Title);
    }

    [Fact]
    public async Task A_commit_of_an_EF_Core_transaction_evicts_many_ids_again_in_one_eviction()
    {
        await using var shop = await Shop.CreateAsync(_directory, redis.Configuration);
        await using (ShopContext db = shop.NewContext())
        {
            db.Books.Add(new BookRow { Id = 2, Title = "old" });
            await db.SaveChangesAsync();
        }
        Assert.Equal("old", (await shop.Books.GetAsync(2))!.Title);

        await using (ShopContext db = shop.NewContext())
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            await shop.Books.RenameManyAsync(db, [1, 2], "new");
            // The reader refilled both entries from the old rows.
            Assert.Equal("old", (await shop.Books.GetAsync(1))!.Title);
            Assert.Equal("old", (await shop.Books.GetAsync(2))!.Title);

            await transaction.CommitAsync();
        }

        Assert.Equal("new", (await shop.Books.GetAsync(1))!.Title);
        Assert.Equal("new", (await shop.Books.GetAsync(2))!.Title);
    }

    [Fact]
    public async Task A_rollback_of_an_EF_Core_transaction_keeps_the_entry_the_reader_filled()
    {
        await using var shop = await Shop.CreateAsync(_directory, redis.Configuration);

        await using (ShopContext db = shop.NewContext())
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            await shop.Books.RenameAsync(db, 1, "new");
            Assert.Equal("old", (await shop.Books.GetAsync(1))!.Title);
            int readsBeforeRollback = shop.Books.DatabaseReads;

            await transaction.RollbackAsync();

            Assert.False(Invalidation.InTransaction);
            Assert.Equal("old", (await shop.Books.GetAsync(1))!.Title);
            Assert.Equal(readsBeforeRollback, shop.Books.DatabaseReads); // still cached: nothing was evicted again
        }
    }

    [Fact]
    public async Task An_EF_Core_transaction_disposed_without_a_commit_stops_counting_as_open()
    {
        await using var shop = await Shop.CreateAsync(_directory, redis.Configuration);

        await using (ShopContext db = shop.NewContext())
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            await shop.Books.RenameAsync(db, 1, "new");
            Assert.True(Invalidation.InTransaction);
        }

        Assert.False(Invalidation.InTransaction);
        Assert.Equal("old", (await shop.Books.GetAsync(1))!.Title);
    }

    // Neither EF Core's SQLite provider nor Microsoft.Data.Sqlite enlists in System.Transactions, so these two run
    // without a database: the entry is filled inside the scope, as the reader above filled it from the old row.
    [Fact]
    public async Task Completing_a_TransactionScope_evicts_again_what_was_filled_after_the_first_eviction()
    {
        await using var instance = CacheInstance.Create(redis.Configuration, o => o.KeyPrefix = Guid.NewGuid().ToString("N"));

        using (var scope = new TransactionScope(TransactionScopeAsyncFlowOption.Enabled))
        {
            await Invalidation.RemoveByTagAsync(instance.Cache, "books");
            Assert.True(Invalidation.InTransaction);
            Assert.Equal("old", await ReadAsync(instance.Cache, "old"));

            scope.Complete();
        }

        Assert.Equal("new", await ReadAsync(instance.Cache, "new"));
    }

    [Fact]
    public async Task A_TransactionScope_that_rolls_back_evicts_nothing_again()
    {
        await using var instance = CacheInstance.Create(redis.Configuration, o => o.KeyPrefix = Guid.NewGuid().ToString("N"));

        using (new TransactionScope(TransactionScopeAsyncFlowOption.Enabled))
        {
            await Invalidation.RemoveByTagAsync(instance.Cache, "books");
            Assert.Equal("old", await ReadAsync(instance.Cache, "old"));
        }

        Assert.Equal("old", await ReadAsync(instance.Cache, "new"));
    }

    private static ValueTask<string> ReadAsync(HybridCache cache, string database) =>
        cache.GetOrCreateAsync("book:1", _ => ValueTask.FromResult(database), tags: ["books"]);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>A bookshop on EF Core: one book, "old", cached by id.</summary>
    private sealed class Shop : IAsyncDisposable
    {
        private readonly CacheInstance _cache;
        private readonly DbContextOptions<ShopContext> _options;

        private Shop(CacheInstance cache, DbContextOptions<ShopContext> options)
        {
            _cache = cache;
            _options = options;
            Books = new BookService(NewContext, cache.Cache);
        }

        public BookService Books { get; }

        public ShopContext NewContext() => new(_options);

        public static async Task<Shop> CreateAsync(string directory, string redis)
        {
            DbContextOptions<ShopContext> options = new DbContextOptionsBuilder<ShopContext>()
                .UseSqlite($"Data Source={Path.Combine(directory, "shop.db")}")
                .AddCacheGenInvalidation()
                .Options;
            await using (var db = new ShopContext(options))
            {
                await db.Database.EnsureCreatedAsync();
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL");
                db.Books.Add(new BookRow { Id = 1, Title = "old" });
                await db.SaveChangesAsync();
            }
            var shop = new Shop(CacheInstance.Create(redis, o => o.KeyPrefix = Path.GetFileName(directory)), options);
            Assert.Equal("old", (await shop.Books.GetAsync(1))!.Title);
            return shop;
        }

        public ValueTask DisposeAsync() => _cache.DisposeAsync();
    }
}

public sealed class BookRow
{
    public int Id { get; set; }

    public required string Title { get; set; }
}

[System.ComponentModel.ImmutableObject(true)]
public sealed record Book(int Id, string Title);

public sealed class ShopContext(DbContextOptions<ShopContext> options) : DbContext(options)
{
    public DbSet<BookRow> Books => Set<BookRow>();
}

public sealed partial class BookService(Func<ShopContext> newContext, HybridCache cache)
{
    private int _databaseReads;

    public int DatabaseReads => Volatile.Read(ref _databaseReads);

    [Cached("books", Key = "book:{id}")]
    public partial Task<Book?> GetAsync(int id);
    private async Task<Book?> GetCoreAsync(int id)
    {
        Interlocked.Increment(ref _databaseReads);
        await using ShopContext db = newContext();
        return await db.Books.Where(b => b.Id == id).Select(b => new Book(b.Id, b.Title)).SingleOrDefaultAsync();
    }

    [InvalidatesCache("books")]
    public partial Task RenameAsync(ShopContext db, int id, string title);
    private async Task RenameCoreAsync(ShopContext db, int id, string title)
    {
        BookRow row = await db.Books.SingleAsync(b => b.Id == id);
        row.Title = title;
        await db.SaveChangesAsync();
    }

    [InvalidatesCache(Method = nameof(GetAsync))]
    public partial Task RenameManyAsync(ShopContext db, IReadOnlyList<int> ids, string title);
    private async Task RenameManyCoreAsync(ShopContext db, IReadOnlyList<int> ids, string title)
    {
        foreach (BookRow row in await db.Books.Where(b => ids.Contains(b.Id)).ToListAsync())
            row.Title = title;
        await db.SaveChangesAsync();
    }
}
