"""Models: the continuous-time GRU and analytic normal forms."""

from .classic import (
    ROSSLER_PARAMS as ROSSLER_PARAMS,
    rossler_field as rossler_field,
)
from .gru import (
    GRU as GRU,
    gru_candidate_residual as gru_candidate_residual,
    gru_vector_field as gru_vector_field,
)
from .normal_forms import (
    AbstractNormalForm as AbstractNormalForm,
    AnalyticPoint as AnalyticPoint,
    Bautin as Bautin,
    bautin_field as bautin_field,
    BogdanovTakens as BogdanovTakens,
    bogdanov_takens_field as bogdanov_takens_field,
    Cusp as Cusp,
    cusp_field as cusp_field,
    Hopf as Hopf,
    hopf_field as hopf_field,
    Pitchfork as Pitchfork,
    pitchfork_field as pitchfork_field,
    saddle_node_field as saddle_node_field,
    SaddleNode as SaddleNode,
    Transcritical as Transcritical,
    transcritical_field as transcritical_field,
)
