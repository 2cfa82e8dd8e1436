namespace CacheGen.Infrastructure;

/// <summary>A batch's core left an id of a value type out: not found, which no entry of that type can say.</summary>
internal sealed class NotFoundInBatchException : Exception
{
    public NotFoundInBatchException() : base("The batch's core method returned no value for this id.")
    {
    }
}
