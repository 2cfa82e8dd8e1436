using CacheGen.Generator.Tests.Infrastructure;

namespace CacheGen.Generator.Tests;

/// <summary>
/// The generated part of <c>[CacheDecorator]</c> classes, compared with committed snapshots; each run must also be
/// silent and compile without errors or warnings.
/// </summary>
public sealed class DecoratorSnapshotTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;

        """;

    private static GeneratorRun RunClean(string source)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + source);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
        return run;
    }

    [Fact]
    public void Contract_exchange_rates() => Snapshot.Verify(RunClean("""
        namespace Rates;

        public interface IExchangeRates
        {
            Task<decimal> GetRateAsync(string from, string to, CancellationToken ct = default);
            Task<IReadOnlyList<string>> CurrenciesAsync(CancellationToken ct = default);
            Task SetRateAsync(string from, string to, decimal rate, CancellationToken ct = default);
        }

        [CacheDecorator(typeof(IExchangeRates))]
        public sealed partial class CachedExchangeRates(IExchangeRates inner, HybridCache cache)
        {
            [Cached("rates", Key = "{from}:{to}", TtlSeconds = 60)]
            public partial Task<decimal> GetRateAsync(string from, string to, CancellationToken ct = default);

            [InvalidatesCache("rates")]
            public partial Task SetRateAsync(string from, string to, decimal rate, CancellationToken ct = default);
        }
        """));

    [Fact]
    public void A_batch_on_a_decorator_reads_through_the_inner_services_batch_method()
    {
        GeneratorRun run = RunClean("""
            namespace Catalogue;

            [System.ComponentModel.ImmutableObject(true)]
            public sealed record Product(int Id, string Name);

            public interface IProducts
            {
                Task<Product?> GetAsync(int id, CancellationToken ct = default);
                Task<IReadOnlyDictionary<int, Product>> GetManyAsync(IReadOnlyCollection<int> ids, CancellationToken ct = default);
            }

            [CacheDecorator(typeof(IProducts))]
            public sealed partial class CachedProducts(IProducts inner, HybridCache cache)
            {
                [Cached("products", Key = "product:{id}")]
                public partial Task<Product?> GetAsync(int id, CancellationToken ct = default);

                [CachedBatch(nameof(GetAsync))]
                public partial Task<IReadOnlyDictionary<int, Product>> GetManyAsync(IReadOnlyCollection<int> ids, CancellationToken ct = default);
            }
            """);
        string decorator = string.Concat(run.Sources.Select(s => s.SourceText.ToString()));
        // The batch's core is the inner service's batch method, as a single method's core is its single method.
        Assert.Contains("GetManyCoreAsync(global::System.Collections.Generic.IReadOnlyCollection<int> ids, global::System.Threading.CancellationToken ct)", decorator);
        Assert.Contains("=> inner.GetManyAsync(ids, ct);", decorator);
    }

    [Fact]
    public void Every_member_kind_is_forwarded() => Snapshot.Verify(RunClean("""
        namespace Members;

        public interface INamed { string Name { get; } Task<int> CountAsync(); }
        public interface ICounted { Task<int> CountAsync(); }

        public interface IStore : INamed, ICounted
        {
            Task<Item?> GetAsync(int id, CancellationToken ct = default);
            Task<Item> SaveAsync(Item item);
            Task<Item?> RenameAsync(int id, string title);
            T? Find<T>(string key) where T : class;
            TValue? Peek<TValue>(string key);
            Task<IReadOnlyList<T>> ListAsync<T>(int page) where T : struct, IComparable<T>;
            bool TryGet(int id, out Item? item);
            void Swap(ref int a, ref int b);
            int Measure(in long size, params int[] extra);
            ref int Slot(int index);
            int Capacity { get; set; }
            string Label { set; }
            string Code { get; init; }
            string this[int id] { get; set; }
            event EventHandler? Changed;
            void Describe(IStore inner);
            string Greeting() => "hello " + Name; // a default member: left as it is
        }

        [System.ComponentModel.ImmutableObject(true)]
        public sealed record Item(int Id, string Title);

        [CacheDecorator(typeof(IStore))]
        public sealed partial class CachedStore(IStore inner, HybridCache cache, IFormatProvider? format = null)
        {
            [Cached("items", Key = "item:{id}", Tags = ["item:{id}"])]
            public partial Task<Item?> GetAsync(int id, CancellationToken ct = default);

            [UpdatesCache(nameof(GetAsync))]
            internal partial Task<Item?> RenameAsync(int id, string title);

            [InvalidatesCache(Tags = ["item:{item.Id}"])]
            public partial Task<Item> SaveAsync(Item item);
            // A core written by hand wins over the inner service's member.
            private async Task<Item> SaveCoreAsync(Item item) => await inner.SaveAsync(item with { Title = item.Title.Trim() });

            [Cached("items")]
            public partial Task<int> CountAsync();

            public IFormatProvider? Format => format;
        }
        """));

    [Fact]
    public void Nested_generic_decorator_of_a_closed_generic_interface() => Snapshot.Verify(RunClean("""
        namespace Generic;

        public interface IRepository<T> { Task<T?> FindAsync(int id); Task<int> CountAsync(); }
        [System.ComponentModel.ImmutableObject(true)]
        public sealed record Post(int Id);

        public static partial class Decorators
        {
            [CacheDecorator(typeof(IRepository<Post>))]
            internal sealed partial class CachedPosts<TTag>(HybridCache cache, IRepository<Post> posts)
            {
                [Cached("posts", Key = "post:{id}")]
                public partial Task<Post?> FindAsync(int id);
            }
        }
        """));
}
