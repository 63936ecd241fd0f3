"""scikit-learn's own estimator checks on dsdkern.svm.SVC, both solvers."""
from sklearn.utils.estimator_checks import parametrize_with_checks

from dsdkern.svm import SVC


@parametrize_with_checks([SVC(), SVC(solver="spsvm")])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
