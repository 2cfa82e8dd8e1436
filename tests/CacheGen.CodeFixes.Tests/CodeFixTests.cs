namespace CacheGen.CodeFixes.Tests;

/// <summary>Each fix turns the misuse into code CacheGen accepts (no CGxxxx diagnostic left).</summary>
public sealed class CodeFixTests
{
    private const string Usings = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;

        namespace App;

        """;

    [Fact]
    public Task CG0001_moves_the_body_into_a_core_method() => CodeFixTest<MakePartialCodeFixProvider>.RunAsync(Usings + """
        public partial class Service(HybridCache cache)
        {
            private static HybridCache Shared { get; } = null!;

            /// <summary>Counts.</summary>
            [Cached("items")]
            public async Task<int> {|CG0001:CountAsync|}(int min, CancellationToken ct = default)
            {
                await Task.Delay(1, ct);
                return min;
            }

            [InvalidatesCache("items")]
            public static int {|CG0001:Reset|}<T>(T value) where T : struct => 0;
        }
        """, Usings + """
        public partial class Service(HybridCache cache)
        {
            private static HybridCache Shared { get; } = null!;

            /// <summary>Counts.</summary>
            [Cached("items")]
            public partial Task<int> CountAsync(int min, CancellationToken ct = default);
            private async Task<int> CountCoreAsync(int min, CancellationToken ct = default)
            {
                await Task.Delay(1, ct);
                return min;
            }

            [InvalidatesCache("items")]
            public static partial int Reset<T>(T value) where T : struct;
            private static int ResetCore<T>(T value) where T : struct => 0;
        }
        """, iterations: 2);

    [Fact]
    public Task CG0002_makes_every_containing_type_partial() => CodeFixTest<MakeTypesPartialCodeFixProvider>.RunAsync(Usings + """
        public class {|CG0002:Outer|}
        {
            internal sealed class {|CG0002:Middle|}
            {
                public class {|CG0002:Service|}(HybridCache cache)
                {
                    [Cached("items")]
                    public partial int Count();
                    private int CountCore() => 0;
                }
            }
        }
        """, Usings + """
        public partial class Outer
        {
            internal sealed partial class Middle
            {
                public partial class Service(HybridCache cache)
                {
                    [Cached("items")]
                    public partial int Count();
                    private int CountCore() => 0;
                }
            }
        }
        """, iterations: 1);

    [Fact]
    public Task CG0063_makes_the_decorator_and_its_containing_types_partial() => CodeFixTest<MakeTypesPartialCodeFixProvider>.RunAsync(Usings + """
        public interface IRates { Task<decimal> GetRateAsync(string from, string to); }

        public static class {|CG0063:Decorators|}
        {
            [CacheDecorator(typeof(IRates))]
            public sealed class {|CG0063:CachedRates|}(IRates inner, HybridCache cache)
            {
            }
        }
        """, Usings + """
        public interface IRates { Task<decimal> GetRateAsync(string from, string to); }

        public static partial class Decorators
        {
            [CacheDecorator(typeof(IRates))]
            public sealed partial class CachedRates(IRates inner, HybridCache cache)
            {
            }
        }
        """, iterations: 1);

    [Fact]
    public Task CG0003_generates_the_core_method_stub() => CodeFixTest<AddCoreMethodCodeFixProvider>.RunAsync(Usings + """
        public partial class Service(HybridCache cache)
        {
            [Cached("items", Key = "item:{id}")]
            public partial Task<string?> {|CG0003:GetAsync|}(int id, CancellationToken ct = default);

            [InvalidatesCache("items")]
            public partial void {|CG0003:Clear|}();
        }
        """, Usings + """
        public partial class Service(HybridCache cache)
        {
            [Cached("items", Key = "item:{id}")]
            public partial Task<string?> GetAsync(int id, CancellationToken ct = default);
            private Task<string?> GetCoreAsync(int id, CancellationToken ct = default) => throw new NotImplementedException();

            [InvalidatesCache("items")]
            public partial void Clear();
            private void ClearCore() => throw new NotImplementedException();
        }
        """, iterations: 2);

    [Fact]
    public Task CG0008_adds_a_primary_constructor_parameter() => CodeFixTest<AddHybridCacheParameterCodeFixProvider>.RunAsync(Usings + """
        public sealed class Store;

        public partial class Service(Store store)
        {
            [Cached("items")]
            public partial int {|CG0008:Count|}();
            private int CountCore() => store.GetHashCode();
        }

        public partial class Other
        {
            [Cached("items")]
            public partial int {|CG0008:Count|}();
            private int CountCore() => 0;
        }
        """, Usings + """
        public sealed class Store;

        public partial class Service(Store store, HybridCache cache)
        {
            [Cached("items")]
            public partial int Count();
            private int CountCore() => store.GetHashCode();
        }

        public partial class Other(HybridCache cache)
        {
            [Cached("items")]
            public partial int Count();
            private int CountCore() => 0;
        }
        """, iterations: 2);

    [Fact]
    public Task CG0008_adds_one_parameter_for_several_methods() => CodeFixTest<AddHybridCacheParameterCodeFixProvider>.RunAsync(Usings + """
        public partial struct Service
        {
            [Cached("items")]
            public partial int {|CG0008:Count|}();
            private int CountCore() => 0;

            [InvalidatesCache("items")]
            public partial void {|CG0008:Clear|}();
            private void ClearCore() { }
        }
        """, Usings + """
        public partial struct Service(HybridCache cache)
        {
            [Cached("items")]
            public partial int Count();
            private int CountCore() => 0;

            [InvalidatesCache("items")]
            public partial void Clear();
            private void ClearCore() { }
        }
        """);

    [Fact]
    public Task CG0008_adds_the_using_when_it_is_missing() => CodeFixTest<AddHybridCacheParameterCodeFixProvider>.RunAsync("""
        using CacheGen;

        public partial class Service
        {
            [Cached("items")]
            public partial int {|CG0008:Count|}();
            private int CountCore() => 0;
        }
        """, """
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;

        public partial class Service(HybridCache cache)
        {
            [Cached("items")]
            public partial int Count();
            private int CountCore() => 0;
        }
        """);
}
