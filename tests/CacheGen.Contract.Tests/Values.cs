namespace CacheGen.Contract.Tests;

/// <summary>A data source that counts its calls; the n-th call returns <c>produce(n)</c>.</summary>
public sealed class Source<T>(Func<int, T> produce)
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public ValueTask<T> Get(CancellationToken cancellationToken) => ValueTask.FromResult(produce(Interlocked.Increment(ref _calls)));

    public static implicit operator Func<CancellationToken, ValueTask<T>>(Source<T> source) => source.Get;
}

/// <summary>A class whose state is in public fields (System.Text.Json skips fields unless told otherwise).</summary>
public sealed class FieldPoint
{
    public int X;
    public string? Label;
}

public sealed record Person(string Name, int Age);

/// <summary>A mutable class (not marked immutable): the article says callers get instances of their own.</summary>
public sealed class Box
{
    public int Value { get; set; }
}

/// <summary>Serializes fine; reading it back fails, because its setter refuses every value.</summary>
public sealed class OneWay
{
    private int _value;

    public OneWay()
    {
    }

    public OneWay(int value) => _value = value;

    public int Value
    {
        get => _value;
        set => throw new InvalidOperationException("OneWay cannot be read back.");
    }
}

public static class Keys
{
    /// <summary>A key no other test uses.</summary>
    public static string Unique(string what = "k") => what + ":" + Guid.NewGuid().ToString("N");
}
